//! Builders for Kubernetes objects exactly as `kubectl get -o yaml|json` prints them: uid,
//! resourceVersion, creationTimestamp, ownerReferences, labels the way installers set them,
//! container statuses the way the kubelet reports them.
//!
//! Self-contained (a test crate may include it alone with `#[path = "support/builders.rs"]`).
//! Every builder returns a `serde_json::Value`; tests change what they need on the result
//! (`obj["status"]["readyReplicas"] = json!(0)`). Identities (uid, resourceVersion) are derived
//! from the object's kind, namespace and name, so fixtures are the same on every run.
//!
//! ```ignore
//! let d = mk_deployment("velero", "velero", json!({"deploy": "velero"}), vec![mk_container("velero", VELERO_IMAGE)]);
//! let p = mk_pod("velero", "velero-7d9f8c6b5-x2x7k", json!({"deploy": "velero"}),
//!     Some(owned_by_replicaset("velero-7d9f8c6b5")), vec![oom_killed("velero", VELERO_IMAGE, 3)]);
//! write_list(dir.path(), "velero-pods.json", vec![p]);
//! ```

#![allow(dead_code)]

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The instant the fixtures' objects were created; ages are read `--now` [`NOW`].
pub const CREATED: &str = "2026-10-22T08:14:03Z";
/// The instant tests evaluate at (`--now`).
pub const NOW: &str = "2026-11-25T09:00:00Z";
pub const VELERO_IMAGE: &str = "velero/velero:v1.17.1";

/// A deterministic 36-character uid for an object.
pub fn uid(kind: &str, namespace: &str, name: &str) -> String {
    // FNV-1a, twice with different seeds: enough bits for a uuid-shaped value.
    let hash = |seed: u64| {
        format!("{kind}/{namespace}/{name}")
            .bytes()
            .fold(seed, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            })
    };
    let (a, b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4));
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// `metadata` as the API server fills it.
pub fn metadata(kind: &str, namespace: &str, name: &str, labels: Value) -> Value {
    let uid = uid(kind, namespace, name);
    let version = u64::from_str_radix(&uid[..6], 16).unwrap_or(1) + 400_000_000;
    json!({
        "creationTimestamp": CREATED,
        "labels": labels,
        "name": name,
        "namespace": namespace,
        "resourceVersion": version.to_string(),
        "uid": uid,
    })
}

/// A container of a pod spec or pod template, without resources (see [`with_resources`]).
pub fn mk_container(name: &str, image: &str) -> Value {
    json!({
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "name": name,
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    })
}

/// [`mk_container`] with `resources.requests` and `resources.limits` (cpu, memory).
pub fn with_resources(mut container: Value, requests: (&str, &str), limits: (&str, &str)) -> Value {
    container["resources"] = json!({
        "limits": {"cpu": limits.0, "memory": limits.1},
        "requests": {"cpu": requests.0, "memory": requests.1},
    });
    container
}

/// A Deployment of one replica, ready, whose pods carry `pod_labels` (also its selector).
/// `labels` are the Deployment's own `metadata.labels`.
pub fn mk_deployment(
    namespace: &str,
    name: &str,
    labels: Value,
    pod_labels: Value,
    containers: Vec<Value>,
) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata("Deployment", namespace, name, labels),
        "spec": {
            "progressDeadlineSeconds": 600,
            "replicas": 1,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": pod_labels.clone()},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                         "type": "RollingUpdate"},
            "template": {
                "metadata": {"creationTimestamp": null, "labels": pod_labels},
                "spec": {"containers": containers, "dnsPolicy": "ClusterFirst",
                         "restartPolicy": "Always", "schedulerName": "default-scheduler",
                         "terminationGracePeriodSeconds": 30},
            },
        },
        "status": {
            "availableReplicas": 1,
            "conditions": [{"lastTransitionTime": CREATED, "lastUpdateTime": CREATED,
                            "message": "Deployment has minimum availability.",
                            "reason": "MinimumReplicasAvailable", "status": "True",
                            "type": "Available"}],
            "observedGeneration": 1,
            "readyReplicas": 1,
            "replicas": 1,
            "updatedReplicas": 1,
        },
    })
}

/// A DaemonSet scheduled on `nodes` nodes, all ready; pods carry `pod_labels`, the selector is
/// `selector`.
pub fn mk_daemonset(
    namespace: &str,
    name: &str,
    labels: Value,
    selector: Value,
    pod_labels: Value,
    containers: Vec<Value>,
    nodes: u64,
) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": metadata("DaemonSet", namespace, name, labels),
        "spec": {
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"creationTimestamp": null, "labels": pod_labels},
                "spec": {"containers": containers, "dnsPolicy": "ClusterFirst",
                         "restartPolicy": "Always", "schedulerName": "default-scheduler",
                         "terminationGracePeriodSeconds": 30},
            },
            "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
                               "type": "RollingUpdate"},
        },
        "status": {
            "currentNumberScheduled": nodes,
            "desiredNumberScheduled": nodes,
            "numberAvailable": nodes,
            "numberMisscheduled": 0,
            "numberReady": nodes,
            "observedGeneration": 1,
            "updatedNumberScheduled": nodes,
        },
    })
}

/// The `ownerReferences` entry a controller sets.
pub fn owned_by(kind: &str, namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": if kind == "Job" { "batch/v1" } else { "apps/v1" },
        "blockOwnerDeletion": true,
        "controller": true,
        "kind": kind,
        "name": name,
        "uid": uid(kind, namespace, name),
    })
}

/// A pod. `owner` is an [`owned_by`] entry (`None`: a bare pod, or a bundle that stripped
/// ownerReferences); `generateName` is derived from the owner as the controllers do.
/// `statuses` are [`running`], [`oom_killed`], [`crash_looping`] entries; the pod spec gets
/// one container per status, and the phase is Running.
pub fn mk_pod(
    namespace: &str,
    name: &str,
    labels: Value,
    owner: Option<Value>,
    statuses: Vec<Value>,
) -> Value {
    let mut meta = metadata("Pod", namespace, name, labels);
    if let Some(owner) = owner {
        if let Some(generate) = name.rsplit_once('-').map(|(base, _)| format!("{base}-")) {
            meta["generateName"] = json!(generate);
        }
        meta["ownerReferences"] = json!([owner]);
    }
    let containers: Vec<Value> = statuses
        .iter()
        .map(|s| {
            mk_container(
                s["name"].as_str().unwrap_or(""),
                s["image"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let ready = statuses.iter().all(|s| s["ready"] == json!(true));
    let ready_status = if ready { "True" } else { "False" };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": containers, "dnsPolicy": "ClusterFirst",
                 "nodeName": "node-a", "restartPolicy": "Always",
                 "schedulerName": "default-scheduler", "terminationGracePeriodSeconds": 30},
        "status": {
            "conditions": [
                {"lastProbeTime": null, "lastTransitionTime": CREATED, "status": "True", "type": "Initialized"},
                {"lastProbeTime": null, "lastTransitionTime": CREATED, "status": ready_status, "type": "Ready"},
                {"lastProbeTime": null, "lastTransitionTime": CREATED, "status": ready_status, "type": "ContainersReady"},
                {"lastProbeTime": null, "lastTransitionTime": CREATED, "status": "True", "type": "PodScheduled"},
            ],
            "containerStatuses": statuses,
            "hostIP": "10.0.0.11",
            "phase": "Running",
            "podIP": "10.244.1.17",
            "qosClass": "Burstable",
            "startTime": CREATED,
        },
    })
}

/// A running, ready container that restarted `restarts` times, without a recorded
/// termination.
pub fn running(name: &str, image: &str, restarts: u64) -> Value {
    json!({
        "containerID": format!("containerd://{}", uid("Container", name, image).replace('-', "")),
        "image": format!("docker.io/{image}"),
        "imageID": format!("docker.io/{image}@sha256:{}", "0".repeat(64)),
        "lastState": {},
        "name": name,
        "ready": true,
        "restartCount": restarts,
        "started": true,
        "state": {"running": {"startedAt": "2026-11-25T08:41:12Z"}},
    })
}

/// `status` with `lastState.terminated` set as the kubelet records it.
fn terminated(
    mut status: Value,
    exit_code: i64,
    reason: &str,
    started: &str,
    finished: &str,
) -> Value {
    status["lastState"] = json!({"terminated": {
        "containerID": status["containerID"].clone(),
        "exitCode": exit_code,
        "finishedAt": finished,
        "reason": reason,
        "startedAt": started,
    }});
    status
}

/// Running again after the kernel killed it for memory (exit 137).
pub fn oom_killed(name: &str, image: &str, restarts: u64) -> Value {
    terminated(
        running(name, image, restarts),
        137,
        "OOMKilled",
        "2026-11-25T07:02:55Z",
        "2026-11-25T08:41:10Z",
    )
}

/// Waiting in CrashLoopBackOff after exiting with an error.
pub fn crash_looping(name: &str, image: &str, restarts: u64) -> Value {
    let mut s = running(name, image, restarts);
    s["ready"] = json!(false);
    s["started"] = json!(false);
    s["state"] = json!({"waiting": {
        "message": format!("back-off 5m0s restarting failed container={name}"),
        "reason": "CrashLoopBackOff",
    }});
    terminated(
        s,
        1,
        "Error",
        "2026-11-25T08:55:30Z",
        "2026-11-25T08:55:31Z",
    )
}

/// `labels` plus `extra` (extra wins).
pub fn merged(labels: Value, extra: Value) -> Value {
    let mut out = labels;
    if let (Some(o), Some(e)) = (out.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    out
}

/// A pod of Deployment `deployment`, as its ReplicaSet `<deployment>-<hash>` creates it:
/// named `<deployment>-<hash>-<suffix>`, labelled `pod-template-hash=<hash>`, owned by it.
pub fn replicaset_pod(
    namespace: &str,
    deployment: &str,
    hash: &str,
    suffix: &str,
    labels: Value,
    statuses: Vec<Value>,
) -> Value {
    let replicaset = format!("{deployment}-{hash}");
    mk_pod(
        namespace,
        &format!("{replicaset}-{suffix}"),
        merged(labels, json!({"pod-template-hash": hash})),
        Some(owned_by("ReplicaSet", namespace, &replicaset)),
        statuses,
    )
}

/// A pod of DaemonSet `daemonset`, named `<daemonset>-<suffix>`, with the labels the
/// DaemonSet controller adds.
pub fn daemonset_pod(
    namespace: &str,
    daemonset: &str,
    suffix: &str,
    labels: Value,
    statuses: Vec<Value>,
) -> Value {
    mk_pod(
        namespace,
        &format!("{daemonset}-{suffix}"),
        merged(
            labels,
            json!({"controller-revision-hash": "7d8c6b9f5d", "pod-template-generation": "1"}),
        ),
        Some(owned_by("DaemonSet", namespace, daemonset)),
        statuses,
    )
}

/// A `kind: List` as `kubectl get <resource> -o json` prints it.
pub fn mk_list(items: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "items": items, "kind": "List",
           "metadata": {"resourceVersion": ""}})
}

/// Writes `items` as one `kubectl get -o json` List to `file` in `dir`.
pub fn write_list(dir: &Path, file: &str, items: Vec<Value>) -> PathBuf {
    let text = serde_json::to_string_pretty(&mk_list(items)).expect("a Value always serializes");
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// [`metadata`] without labels, created at `created`: for objects whose age matters.
pub fn stamped(kind: &str, namespace: &str, name: &str, created: &str) -> Value {
    let mut m = metadata(kind, namespace, name, json!({}));
    if let Some(map) = m.as_object_mut() {
        map.remove("labels");
        map.insert("creationTimestamp".into(), json!(created));
    }
    m
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
        "metadata": stamped("BackupStorageLocation", namespace, name, "2026-10-20T08:00:00Z"),
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
        "metadata": with(stamped("Backup", namespace, name, at), "/labels",
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
        "metadata": stamped("Schedule", namespace, name, "2026-10-20T08:00:00Z"),
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
        "metadata": stamped("Restore", namespace, name, at),
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
        "metadata": stamped("Event", namespace, &format!("{involved}.18a3f0c2d4e5b6a7"), at),
        "reason": reason,
        "source": {"component": "backupscope-test"},
        "type": "Warning",
    })
}

/// The inventory these objects make, as every source builds it.
pub fn inventory(objects: &[Value]) -> backupscope::inventory::Inventory {
    backupscope::inventory::Inventory::from_objects(objects)
}

/// Writes each (file name, objects) as a `kubectl get -o json` List under `dir`.
pub fn write_snapshot(dir: &Path, files: Vec<(&str, Vec<Value>)>) {
    for (name, items) in files {
        write_list(dir, name, items);
    }
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
        "metadata": stamped("BackupLocation", "csdr", name, "2026-10-20T06:30:00Z"),
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
        "metadata": with(stamped("ApplicationBackup", "csdr", name, at), "/labels", json!({"csdr/schedule-name": ""})),
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
        "metadata": stamped("BackupSchedule", "csdr", name, "2026-10-20T06:41:09Z"),
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
        "metadata": stamped("ApplicationRestore", "csdr", name, at),
        "spec": {"backupName": backup},
        "status": status,
    })
}

/// A Deployment whose pods carry `labels`, with one container and its memory limit.
pub fn mk_component_deployment(
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
        "metadata": stamped("Deployment", namespace, name, "2026-10-20T05:58:15Z"),
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
pub fn mk_component_pod(
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
        "metadata": with(stamped("Pod", namespace, name, "2026-11-20T09:41:00Z"), "/labels", labels),
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
        mk_component_deployment(
            "kube-system",
            "migrate-controller",
            mc_labels(),
            "migrate-controller",
            MC_IMAGE,
            "512Mi",
            1,
        ),
        mk_component_pod(
            "kube-system",
            "migrate-controller-86d5fb4c97-rcjxf",
            mc_labels(),
            "migrate-controller",
            0,
            None,
            None,
        ),
        mk_component_deployment(
            "csdr",
            "csdr-controller",
            ctl.clone(),
            "manager",
            "registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/csdr-controller:v1.8.4-e3c7a0b-aliyun",
            "1Gi",
            1,
        ),
        mk_component_pod(
            "csdr",
            "csdr-controller-5c8d7b9f64-9ldxg",
            ctl,
            "manager",
            0,
            None,
            None,
        ),
        mk_component_deployment(
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
    mk_component_pod(
        "csdr",
        "csdr-velero-7f9c5d8b6d-8kx2p",
        csdr_velero_labels(),
        "velero",
        restarts,
        last,
        None,
    )
}
