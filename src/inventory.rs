//! The inventory: every record the sources delivered, keyed by identity, updated by one writer
//! (a snapshot load or the watch loop) and read by the views through [`crate::center`].
//!
//! It stores facts as they are, nothing derived: which velero object is a twin of an ACK one,
//! a task's data type or failure reason are decided when a view asks, so the order in which
//! objects arrive can never leave a stale decision behind.

use crate::model::{
    BackupTask, Engine, Pod, PodVolumeBackup, Record, RecordKey, RecordKind, RestoreTask, Schedule,
    Vault, WarningEvent, Workload, WorkloadKind,
};
use std::collections::{BTreeMap, BTreeSet};

/// Namespace and name: the identity of a namespaced object of one kind and engine.
pub type NsName = (String, String);

/// One map per engine, so ACK objects and their velero twins never collide.
#[derive(Debug, Clone)]
pub struct PerEngine<T> {
    pub ack: BTreeMap<NsName, T>,
    pub velero: BTreeMap<NsName, T>,
}

impl<T> Default for PerEngine<T> {
    fn default() -> Self {
        PerEngine {
            ack: BTreeMap::new(),
            velero: BTreeMap::new(),
        }
    }
}

impl<T> PerEngine<T> {
    pub fn get(&self, engine: Engine) -> &BTreeMap<NsName, T> {
        match engine {
            Engine::Ack => &self.ack,
            Engine::Velero => &self.velero,
        }
    }

    fn get_mut(&mut self, engine: Engine) -> &mut BTreeMap<NsName, T> {
        match engine {
            Engine::Ack => &mut self.ack,
            Engine::Velero => &mut self.velero,
        }
    }

    pub fn len(&self) -> usize {
        self.ack.len() + self.velero.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.ack.values().chain(self.velero.values())
    }
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub vaults: PerEngine<Vault>,
    pub backups: PerEngine<BackupTask>,
    pub schedules: PerEngine<Schedule>,
    pub restores: PerEngine<RestoreTask>,
    pub pod_volume_backups: BTreeMap<NsName, PodVolumeBackup>,
    pub deployments: BTreeMap<NsName, Workload>,
    pub daemonsets: BTreeMap<NsName, Workload>,
    pub pods: BTreeMap<NsName, Pod>,
    pub events: BTreeMap<NsName, WarningEvent>,
    /// (namespace, backup name, pvb name): counts file-system backups per task.
    pvb_index: BTreeSet<(String, String, String)>,
    /// (involved namespace, involved name, event namespace, event name).
    event_index: BTreeSet<(String, String, String, String)>,
    /// Bumped on every change; lets views cache work per inventory state.
    revision: u64,
}

fn ns_name(key: &RecordKey) -> NsName {
    (key.namespace.clone(), key.name.clone())
}

impl Inventory {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Inserts or replaces a record.
    pub fn apply(&mut self, record: Record) {
        self.revision += 1;
        // A replaced PVB or event may point elsewhere now: drop its index entries first.
        let key = record.key();
        if matches!(key.kind, RecordKind::PodVolumeBackup | RecordKind::Event) {
            self.remove(&key);
        }
        let id = ns_name(&key);
        match record {
            Record::Vault(v) => {
                self.vaults.get_mut(v.engine).insert(id, v);
            }
            Record::Backup(b) => {
                self.backups.get_mut(b.engine).insert(id, b);
            }
            Record::Schedule(s) => {
                self.schedules.get_mut(s.engine).insert(id, s);
            }
            Record::Restore(r) => {
                self.restores.get_mut(r.engine).insert(id, r);
            }
            Record::PodVolumeBackup(p) => {
                self.pvb_index
                    .insert((p.namespace.clone(), p.backup.clone(), p.name.clone()));
                self.pod_volume_backups.insert(id, p);
            }
            Record::Workload(w) => {
                let map = match w.kind {
                    WorkloadKind::Deployment => &mut self.deployments,
                    WorkloadKind::DaemonSet => &mut self.daemonsets,
                };
                map.insert(id, w);
            }
            Record::Pod(p) => {
                self.pods.insert(id, p);
            }
            Record::Event(e) => {
                self.event_index.insert((
                    involved_namespace(&e).to_string(),
                    e.involved_name.clone(),
                    e.namespace.clone(),
                    e.name.clone(),
                ));
                self.events.insert(id, e);
            }
        }
    }

    /// Removes a record; returns whether it was there.
    pub fn remove(&mut self, key: &RecordKey) -> bool {
        let id = ns_name(key);
        let engine = key.engine.unwrap_or(Engine::Velero);
        let removed = match key.kind {
            RecordKind::Vault => self.vaults.get_mut(engine).remove(&id).is_some(),
            RecordKind::Backup => self.backups.get_mut(engine).remove(&id).is_some(),
            RecordKind::Schedule => self.schedules.get_mut(engine).remove(&id).is_some(),
            RecordKind::Restore => self.restores.get_mut(engine).remove(&id).is_some(),
            RecordKind::PodVolumeBackup => match self.pod_volume_backups.remove(&id) {
                Some(p) => {
                    self.pvb_index.remove(&(p.namespace, p.backup, p.name));
                    true
                }
                None => false,
            },
            RecordKind::Workload(WorkloadKind::Deployment) => {
                self.deployments.remove(&id).is_some()
            }
            RecordKind::Workload(WorkloadKind::DaemonSet) => self.daemonsets.remove(&id).is_some(),
            RecordKind::Pod => self.pods.remove(&id).is_some(),
            RecordKind::Event => match self.events.remove(&id) {
                Some(e) => {
                    self.event_index.remove(&(
                        involved_namespace(&e).to_string(),
                        e.involved_name,
                        e.namespace,
                        e.name,
                    ));
                    true
                }
                None => false,
            },
        };
        if removed {
            self.revision += 1;
        }
        removed
    }

    /// Every key of one kind (and engine), for reconciling a relist: what the new list does
    /// not contain is removed by the caller.
    pub fn keys(&self, kind: RecordKind, engine: Option<Engine>) -> Vec<RecordKey> {
        let mk = |(ns, name): &NsName| RecordKey {
            kind,
            engine,
            namespace: ns.clone(),
            name: name.clone(),
        };
        let engine = engine.unwrap_or(Engine::Velero);
        match kind {
            RecordKind::Vault => self.vaults.get(engine).keys().map(mk).collect(),
            RecordKind::Backup => self.backups.get(engine).keys().map(mk).collect(),
            RecordKind::Schedule => self.schedules.get(engine).keys().map(mk).collect(),
            RecordKind::Restore => self.restores.get(engine).keys().map(mk).collect(),
            RecordKind::PodVolumeBackup => self.pod_volume_backups.keys().map(mk).collect(),
            RecordKind::Workload(WorkloadKind::Deployment) => {
                self.deployments.keys().map(mk).collect()
            }
            RecordKind::Workload(WorkloadKind::DaemonSet) => {
                self.daemonsets.keys().map(mk).collect()
            }
            RecordKind::Pod => self.pods.keys().map(mk).collect(),
            RecordKind::Event => self.events.keys().map(mk).collect(),
        }
    }

    /// Number of PodVolumeBackups that belong to a backup task.
    pub fn pod_volume_backup_count(&self, namespace: &str, backup: &str) -> usize {
        let lo = (namespace.to_string(), backup.to_string(), String::new());
        self.pvb_index
            .range(lo..)
            .take_while(|(ns, b, _)| ns == namespace && b == backup)
            .count()
    }

    /// Non-Normal events about one object, newest last.
    pub fn events_about(&self, namespace: &str, name: &str) -> Vec<&WarningEvent> {
        let lo = (
            namespace.to_string(),
            name.to_string(),
            String::new(),
            String::new(),
        );
        let mut events: Vec<&WarningEvent> = self
            .event_index
            .range(lo..)
            .take_while(|(ins, iname, _, _)| ins == namespace && iname == name)
            .filter_map(|(_, _, ns, n)| self.events.get(&(ns.clone(), n.clone())))
            .collect();
        events.sort_by_key(|e| (e.last, e.first));
        events
    }

    /// How many records of each resource the inventory holds (`backupscope_objects`).
    pub fn object_counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("backuplocations", self.vaults.ack.len()),
            ("applicationbackups", self.backups.ack.len()),
            ("backupschedules", self.schedules.ack.len()),
            ("applicationrestores", self.restores.ack.len()),
            ("backupstoragelocations", self.vaults.velero.len()),
            ("backups", self.backups.velero.len()),
            ("schedules", self.schedules.velero.len()),
            ("restores", self.restores.velero.len()),
            ("podvolumebackups", self.pod_volume_backups.len()),
            ("deployments", self.deployments.len()),
            ("daemonsets", self.daemonsets.len()),
            ("pods", self.pods.len()),
            ("events", self.events.len()),
        ]
    }
}

/// Events about namespaced objects often leave `involvedObject.namespace` empty when it equals
/// the event's own namespace.
fn involved_namespace(e: &WarningEvent) -> &str {
    if e.involved_namespace.is_empty() {
        &e.namespace
    } else {
        &e.involved_namespace
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{self, Mapped};
    use serde_json::json;

    fn record(v: serde_json::Value) -> Record {
        match dialect::map(&v) {
            Ok(Mapped::Record(r)) => *r,
            other => panic!("not mapped: {other:?}"),
        }
    }

    fn event(name: &str, about: &str) -> Record {
        record(
            json!({"apiVersion": "v1", "kind": "Event", "type": "Warning",
            "metadata": {"name": name, "namespace": "csdr"},
            "involvedObject": {"kind": "ApplicationBackup", "name": about}}),
        )
    }

    #[test]
    fn apply_replace_remove() {
        let mut inv = Inventory::new();
        let b = record(json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": "b", "namespace": "velero"}, "status": {"phase": "InProgress"}}));
        let key = b.key();
        inv.apply(b);
        inv.apply(record(
            json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": "b", "namespace": "velero"}, "status": {"phase": "Completed"}}),
        ));
        assert_eq!(inv.backups.len(), 1);
        assert!(inv.remove(&key));
        assert!(!inv.remove(&key), "second delete is a no-op");
        assert!(inv.backups.is_empty());
    }

    #[test]
    fn event_index_follows_replacements() {
        let mut inv = Inventory::new();
        inv.apply(event("e1", "task-a"));
        assert_eq!(inv.events_about("csdr", "task-a").len(), 1);
        // The same event object now points at another task: the old index entry must go.
        inv.apply(event("e1", "task-b"));
        assert!(inv.events_about("csdr", "task-a").is_empty());
        assert_eq!(inv.events_about("csdr", "task-b").len(), 1);
        let key = event("e1", "task-b").key();
        inv.remove(&key);
        assert!(inv.events_about("csdr", "task-b").is_empty());
    }

    #[test]
    fn pod_volume_backups_counted_per_task() {
        let mut inv = Inventory::new();
        for (name, backup) in [("p1", "b1"), ("p2", "b1"), ("p3", "b10")] {
            inv.apply(record(
                json!({"apiVersion": "velero.io/v1", "kind": "PodVolumeBackup",
                "metadata": {"name": name, "namespace": "velero",
                             "labels": {"velero.io/backup-name": backup}}}),
            ));
        }
        assert_eq!(inv.pod_volume_backup_count("velero", "b1"), 2);
        assert_eq!(inv.pod_volume_backup_count("velero", "b10"), 1);
        assert_eq!(inv.pod_volume_backup_count("velero", "b"), 0);
    }
}
