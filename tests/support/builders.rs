//! Tiny builders for objects as `kubectl get -o json` prints them (apiVersion, kind, the
//! metadata an API server fills in, spec, status), shared by every test that needs a cluster
//! state: build the objects, adjust a field with [`set`], and load them with [`inventory`] or
//! write them as a snapshot with [`write_snapshot`].

use serde_json::{Value, json};
use std::path::Path;

/// The metadata an API server fills in, as kubectl prints it.
pub fn metadata(namespace: &str, name: &str, created: &str) -> Value {
    // A stable uid per object, shaped like the real ones.
    let hash = name
        .bytes()
        .chain(namespace.bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    json!({
        "creationTimestamp": created,
        "generation": 1,
        "name": name,
        "namespace": namespace,
        "resourceVersion": (hash % 900_000 + 100_000).to_string(),
        "uid": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            hash >> 32, (hash >> 16) & 0xffff, hash & 0xfff, (hash >> 4) & 0xfff, hash & 0xffff_ffff_ffff),
    })
}

/// Sets the field at a JSON pointer (`/status/phase`), creating objects on the way.
pub fn set(obj: &mut Value, pointer: &str, value: Value) {
    let mut at = obj;
    let mut keys = pointer.trim_start_matches('/').split('/').peekable();
    while let Some(key) = keys.next() {
        if !at.is_object() {
            *at = json!({});
        }
        let map = at.as_object_mut().expect("an object");
        if keys.peek().is_none() {
            map.insert(key.to_string(), value);
            return;
        }
        at = map.entry(key.to_string()).or_insert_with(|| json!({}));
    }
}

/// `obj` with the field at `pointer` set: for chaining in object lists.
pub fn with(mut obj: Value, pointer: &str, value: Value) -> Value {
    set(&mut obj, pointer, value);
    obj
}

/// A Velero BackupStorageLocation; `phase: None` is one that was never validated.
pub fn mk_bsl(namespace: &str, name: &str, bucket: &str, phase: Option<&str>) -> Value {
    let mut o = json!({
        "apiVersion": "velero.io/v1",
        "kind": "BackupStorageLocation",
        "metadata": metadata(namespace, name, "2026-10-20T08:00:00Z"),
        "spec": {
            "config": {"region": "us-east-1"},
            "credential": {"key": "cloud", "name": "cloud-credentials"},
            "default": name == "default",
            "objectStorage": {"bucket": bucket},
            "provider": "aws",
        },
    });
    if let Some(phase) = phase {
        set(
            &mut o,
            "/status",
            json!({
                "lastSyncedTime": "2026-11-25T08:59:00Z",
                "lastValidationTime": "2026-11-25T08:59:00Z",
                "phase": phase,
            }),
        );
    }
    o
}

/// A Velero Backup of `vault` in `phase`, started and (when terminal) completed at `at`.
pub fn mk_backup(namespace: &str, name: &str, vault: &str, phase: &str, at: &str) -> Value {
    let mut status = json!({
        "phase": phase,
        "startTimestamp": at,
        "version": 1,
        "formatVersion": "1.1.0",
    });
    if !matches!(
        phase,
        "New"
            | "InProgress"
            | "Queued"
            | "ReadyToStart"
            | "WaitingForPluginOperations"
            | "Finalizing"
    ) {
        set(&mut status, "/completionTimestamp", json!(at));
    }
    json!({
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": with(metadata(namespace, name, at), "/labels",
            json!({"velero.io/storage-location": vault})),
        "spec": {
            "csiSnapshotTimeout": "10m0s",
            "defaultVolumesToFsBackup": false,
            "includedNamespaces": ["*"],
            "storageLocation": vault,
            "ttl": "720h0m0s",
        },
        "status": status,
    })
}

/// A Velero Backup created by `schedule` (the label Velero sets).
pub fn mk_scheduled_backup(
    namespace: &str,
    schedule: &str,
    vault: &str,
    phase: &str,
    at: &str,
) -> Value {
    let stamp: String = at.chars().filter(char::is_ascii_digit).collect();
    let mut b = mk_backup(namespace, &format!("{schedule}-{stamp}"), vault, phase, at);
    b["metadata"]["labels"]["velero.io/schedule-name"] = json!(schedule);
    b
}

/// A Velero Schedule; `phase: None` is one the controller has not looked at.
pub fn mk_schedule(
    namespace: &str,
    name: &str,
    cron: &str,
    vault: &str,
    phase: Option<&str>,
) -> Value {
    let mut o = json!({
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": metadata(namespace, name, "2026-10-20T08:00:00Z"),
        "spec": {
            "schedule": cron,
            "template": {"includedNamespaces": ["*"], "storageLocation": vault, "ttl": "720h0m0s"},
            "useOwnerReferencesInBackup": false,
        },
    });
    if let Some(phase) = phase {
        set(&mut o, "/status/phase", json!(phase));
    }
    o
}

/// A Velero Restore of `backup` in `phase`, started at `at`.
pub fn mk_restore(namespace: &str, name: &str, backup: &str, phase: &str, at: &str) -> Value {
    json!({
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": metadata(namespace, name, at),
        "spec": {"backupName": backup, "excludedResources": ["nodes", "events"]},
        "status": {"phase": phase, "startTimestamp": at},
    })
}

/// A core/v1 Warning event about `kind`/`involved` in `namespace`.
pub fn mk_event(
    namespace: &str,
    involved_kind: &str,
    involved: &str,
    reason: &str,
    message: &str,
    at: &str,
) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "count": 1,
        "firstTimestamp": at,
        "lastTimestamp": at,
        "involvedObject": {"kind": involved_kind, "name": involved, "namespace": namespace},
        "message": message,
        "metadata": metadata(namespace, &format!("{involved}.18a3f0c2d4e5b6a7"), at),
        "reason": reason,
        "source": {"component": "backupscope-test"},
        "type": "Warning",
    })
}

/// kubectl's wrapper for several objects.
pub fn list(items: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})
}

/// Writes each (file name, objects) as a `kubectl get -o json` List under `dir`.
pub fn write_snapshot(dir: &Path, files: Vec<(&str, Vec<Value>)>) {
    for (name, items) in files {
        let text = serde_json::to_string_pretty(&list(items)).expect("serialize");
        std::fs::write(dir.join(name), text).expect("write snapshot file");
    }
}

/// The inventory these objects make, as every source builds it.
pub fn inventory(objects: &[Value]) -> backupscope::inventory::Inventory {
    backupscope::inventory::Inventory::from_objects(objects)
}

/// An ACK BackupLocation (backup vault) in `csdr`; `phase: None` is one never validated.
pub fn mk_ack_vault(
    name: &str,
    bucket: &str,
    region: &str,
    network: &str,
    phase: Option<&str>,
    message: &str,
) -> Value {
    let mut o = json!({
        "apiVersion": "csdr.alibabacloud.com/v1beta1",
        "kind": "BackupLocation",
        "metadata": metadata("csdr", name, "2026-10-20T06:30:00Z"),
        "spec": {
            "backupSyncPeriod": "0s",
            "config": {"network": network, "region": region},
            "objectStorage": {"bucket": bucket, "prefix": "ack"},
            "provider": "alibabacloud",
        },
    });
    if let Some(phase) = phase {
        set(
            &mut o,
            "/status",
            json!({"lastValidationTime": "2026-11-25T08:57:00Z", "phase": phase}),
        );
        if !message.is_empty() {
            set(&mut o, "/status/message", json!(message));
        }
    }
    o
}

/// An ACK ApplicationBackup of `vault` in `phase`, started at `at` and, when terminal, completed
/// then too; `message` is its `status.message` (empty for none).
pub fn mk_ack_backup(name: &str, vault: &str, phase: &str, at: &str, message: &str) -> Value {
    let mut status = json!({"phase": phase, "startTimestamp": at});
    if !matches!(phase, "InProgress" | "") {
        set(&mut status, "/completionTimestamp", json!(at));
    }
    if !message.is_empty() {
        set(&mut status, "/message", json!(message));
    }
    json!({
        "apiVersion": "csdr.alibabacloud.com/v1beta1",
        "kind": "ApplicationBackup",
        "metadata": with(metadata("csdr", name, at), "/labels", json!({"csdr/schedule-name": ""})),
        "spec": {
            "backupType": "AppAndPvBackup",
            "includedNamespaces": ["shop"],
            "pvBackup": {"defaultPvBackup": true},
            "storageLocation": vault,
            "ttl": "720h0m0s",
        },
        "status": status,
    })
}

/// An ACK ApplicationBackup created by the backup plan `schedule`.
pub fn mk_ack_scheduled_backup(
    schedule: &str,
    vault: &str,
    phase: &str,
    at: &str,
    message: &str,
) -> Value {
    let stamp: String = at.chars().filter(char::is_ascii_digit).collect();
    let mut b = mk_ack_backup(&format!("{schedule}-{stamp}"), vault, phase, at, message);
    b["metadata"]["labels"]["csdr/schedule-name"] = json!(schedule);
    b
}

/// An ACK BackupSchedule (backup plan) on `vault`.
pub fn mk_ack_schedule(name: &str, schedule: &str, vault: &str, paused: bool) -> Value {
    json!({
        "apiVersion": "csdr.alibabacloud.com/v1beta1",
        "kind": "BackupSchedule",
        "metadata": metadata("csdr", name, "2026-10-20T06:41:09Z"),
        "spec": {
            "paused": paused,
            "schedule": schedule,
            "template": {"backupType": "AppBackup", "includedNamespaces": ["orders"], "storageLocation": vault},
        },
    })
}

/// An ACK ApplicationRestore of `backup` in `phase`, started (and completed) at `at`.
pub fn mk_ack_restore(name: &str, backup: &str, phase: &str, at: &str, message: &str) -> Value {
    let mut status = json!({"phase": phase, "startTimestamp": at});
    if phase != "InProgress" {
        set(&mut status, "/completionTimestamp", json!(at));
    }
    if !message.is_empty() {
        set(&mut status, "/message", json!(message));
    }
    json!({
        "apiVersion": "csdr.alibabacloud.com/v1beta1",
        "kind": "ApplicationRestore",
        "metadata": metadata("csdr", name, at),
        "spec": {"backupName": backup},
        "status": status,
    })
}

/// A Deployment whose pods carry `labels`, with one container and its memory limit.
pub fn mk_deployment(
    namespace: &str,
    name: &str,
    labels: Value,
    container: &str,
    image: &str,
    memory_limit: &str,
    ready: u64,
) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(namespace, name, "2026-10-20T05:58:15Z"),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "image": image,
                    "name": container,
                    "resources": {
                        "limits": {"cpu": "1", "memory": memory_limit},
                        "requests": {"cpu": "500m", "memory": "128Mi"},
                    },
                }]},
            },
        },
        "status": {"availableReplicas": ready, "readyReplicas": ready, "replicas": 1},
    })
}

/// How a container last ended: (reason, exit code, finishedAt).
pub type LastEnd<'a> = Option<(&'a str, i64, &'a str)>;

/// A running pod with one container on node `k8s-worker-01` (set `/spec/nodeName` for another);
/// `waiting` is a `state.waiting.reason` (then the container is not ready), `last` its
/// `lastState.terminated`.
pub fn mk_pod(
    namespace: &str,
    name: &str,
    labels: Value,
    container: &str,
    restarts: u64,
    last: LastEnd,
    waiting: Option<&str>,
) -> Value {
    let mut status = json!({
        "name": container,
        "ready": waiting.is_none(),
        "restartCount": restarts,
        "state": {"running": {"startedAt": "2026-11-20T09:41:00Z"}},
    });
    if let Some((reason, code, at)) = last {
        set(
            &mut status,
            "/lastState/terminated",
            json!({"exitCode": code, "finishedAt": at, "reason": reason}),
        );
    }
    if let Some(reason) = waiting {
        set(
            &mut status,
            "/state",
            json!({"waiting": {"reason": reason}}),
        );
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": with(metadata(namespace, name, "2026-11-20T09:41:00Z"), "/labels", labels),
        "spec": {"containers": [{"name": container}], "nodeName": "k8s-worker-01"},
        "status": {"containerStatuses": [status], "phase": "Running"},
    })
}

/// The image of migrate-controller v1.8.4 as ACK installs it.
pub const MC_IMAGE: &str =
    "registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/migrate-controller:v1.8.4-e3c7a0b-aliyun";

/// Pod labels of migrate-controller.
pub fn mc_labels() -> Value {
    json!({"app": "migrate-controller"})
}

/// Pod labels of csdr-velero.
pub fn csdr_velero_labels() -> Value {
    json!({"component": "csdr"})
}

/// An installed ACK backup center: migrate-controller, csdr-controller and csdr-velero, all
/// healthy; csdr-velero's pod is
/// `velero_pod` so tests can swap in a restarted one.
pub fn mk_ack_components(velero_pod: Value) -> Vec<Value> {
    let ctl = json!({"control-plane": "csdr-controller"});
    vec![
        mk_deployment(
            "kube-system",
            "migrate-controller",
            mc_labels(),
            "migrate-controller",
            MC_IMAGE,
            "512Mi",
            1,
        ),
        mk_pod(
            "kube-system",
            "migrate-controller-86d5fb4c97-rcjxf",
            mc_labels(),
            "migrate-controller",
            0,
            None,
            None,
        ),
        mk_deployment(
            "csdr",
            "csdr-controller",
            ctl.clone(),
            "manager",
            "registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/csdr-controller:v1.8.4-e3c7a0b-aliyun",
            "1Gi",
            1,
        ),
        mk_pod(
            "csdr",
            "csdr-controller-5c8d7b9f64-9ldxg",
            ctl,
            "manager",
            0,
            None,
            None,
        ),
        mk_deployment(
            "csdr",
            "csdr-velero",
            csdr_velero_labels(),
            "velero",
            "registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/velero:v1.13.2-e3c7a0b-aliyun",
            "2Gi",
            1,
        ),
        velero_pod,
    ]
}

/// The csdr-velero pod with its container's restart count and last end.
pub fn mk_csdr_velero_pod(restarts: u64, last: LastEnd) -> Value {
    mk_pod(
        "csdr",
        "csdr-velero-7f9c5d8b6d-8kx2p",
        csdr_velero_labels(),
        "velero",
        restarts,
        last,
        None,
    )
}
