//! A test API server holding a backup center: the CRDs of both backup systems, the bundled
//! examples loaded into it, and the list of every kind backupscope reads.
//!
//! Included with `#[path = "support/cluster.rs"] mod cluster;` by the live-source tests, so
//! they do not compile the Prometheus helpers of `support/mod.rs`.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use testapiserver::{ResourceType, TestApiServer};

pub const ACK_GROUP: &str = "csdr.alibabacloud.com";
pub const ACK_API: &str = "csdr.alibabacloud.com/v1beta1";
pub const VELERO_GROUP: &str = "velero.io";
pub const VELERO_API: &str = "velero.io/v1";

/// (kind, plural) of the ACK backup center's CRDs.
pub const ACK_KINDS: [(&str, &str); 4] = [
    ("BackupLocation", "backuplocations"),
    ("ApplicationBackup", "applicationbackups"),
    ("BackupSchedule", "backupschedules"),
    ("ApplicationRestore", "applicationrestores"),
];

/// (kind, plural) of Velero's CRDs.
pub const VELERO_KINDS: [(&str, &str); 5] = [
    ("BackupStorageLocation", "backupstoragelocations"),
    ("Backup", "backups"),
    ("Schedule", "schedules"),
    ("Restore", "restores"),
    ("PodVolumeBackup", "podvolumebackups"),
];

/// (apiVersion, kind) of every built-in kind backupscope reads.
pub const BUILTIN_KINDS: [(&str, &str); 4] = [
    ("apps/v1", "Deployment"),
    ("apps/v1", "DaemonSet"),
    ("v1", "Pod"),
    ("v1", "Event"),
];

pub fn register_ack(server: &TestApiServer) {
    for (kind, plural) in ACK_KINDS {
        server.register(ResourceType::new(ACK_GROUP, "v1beta1", kind, plural, true));
    }
}

pub fn register_velero(server: &TestApiServer) {
    for (kind, plural) in VELERO_KINDS {
        server.register(ResourceType::new(VELERO_GROUP, "v1", kind, plural, true));
    }
}

/// (apiVersion, kind) of everything the server may hold that backupscope reads.
pub fn all_kinds() -> Vec<(&'static str, &'static str)> {
    ACK_KINDS
        .iter()
        .map(|(k, _)| (ACK_API, *k))
        .chain(VELERO_KINDS.iter().map(|(k, _)| (VELERO_API, *k)))
        .chain(BUILTIN_KINDS)
        .collect()
}

pub fn example_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// Every object of an example directory (its `kind: List` YAML files), in file order.
pub fn example_objects(name: &str) -> Vec<Value> {
    let dir = example_dir(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut objects = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        let list: Value = serde_norway::from_str(&text)
            .unwrap_or_else(|e| panic!("parse {}: {e}", file.display()));
        match list.get("items").and_then(Value::as_array) {
            Some(items) => objects.extend(items.iter().cloned()),
            None => objects.push(list),
        }
    }
    objects
}

/// Registers the CRDs the example's objects need and loads every object into the server.
pub fn load_example(server: &TestApiServer, name: &str) -> usize {
    let objects = example_objects(name);
    let uses = |group: &str| {
        objects.iter().any(|o| {
            o.get("apiVersion")
                .and_then(Value::as_str)
                .is_some_and(|a| a.starts_with(&format!("{group}/")))
        })
    };
    if uses(ACK_GROUP) {
        register_ack(server);
    }
    if uses(VELERO_GROUP) {
        register_velero(server);
    }
    server
        .apply_many(objects)
        .unwrap_or_else(|e| panic!("load {name} into the server: {e}"))
}

/// Events backupscope wrote (its `managed-by` label), in the server's order.
pub fn our_events(server: &TestApiServer) -> Vec<Value> {
    server
        .list_objects("v1", "Event")
        .into_iter()
        .filter(|e| e["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "backupscope")
        .collect()
}

/// Who holds the Lease `namespace/name` now.
pub fn lease_holder(server: &TestApiServer, namespace: &str, name: &str) -> Option<String> {
    server
        .get("coordination.k8s.io/v1", "Lease", Some(namespace), name)
        .and_then(|l| l["spec"]["holderIdentity"].as_str().map(str::to_string))
}
