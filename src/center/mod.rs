//! The backup center as a person reads it, resolved from the inventory at one instant: which
//! engines run, which objects are tasks and which are mere twins, each task's data type and
//! failure reason, each schedule's last good backup, each component's health.
//!
//! This is the one place these decisions are made; metrics, CLI and web only render them.

use crate::dialect::ack;
use crate::inventory::{Flagged, FlaggedId, Inventory, RunId, RunIndex};
use crate::model::{
    BackupTask, Engine, Outcome, RestoreTask, Schedule, SharedStr, Timestamp, Vault, WarningEvent,
};
use std::collections::{BTreeSet, HashMap};

mod components;
pub mod order;
mod verdict;
pub use components::ComponentView;
pub use verdict::{Graded, Severity, severity_of_word};

pub struct BackupCenter<'a> {
    pub inventory: &'a Inventory,
    pub now: Timestamp,
    /// Namespaces where the ACK backup center runs; velero.io objects there are its mirrors.
    ack_namespaces: BTreeSet<&'a str>,
    /// `--engine`: look at one backup system only.
    only: Option<Engine>,
}

/// A backup task with the velero twin that adds detail to it on ACK.
#[derive(Debug, Clone, Copy)]
pub struct TaskView<'a> {
    pub task: &'a BackupTask,
    pub twin: Option<&'a BackupTask>,
}

/// A restore task with its velero twin on ACK.
#[derive(Debug, Clone, Copy)]
pub struct RestoreView<'a> {
    pub restore: &'a RestoreTask,
    pub twin: Option<&'a RestoreTask>,
}

/// What the tasks of one schedule say about it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScheduleRuns<'a> {
    /// Completion time of the newest Completed task.
    pub last_success: Option<Timestamp>,
    /// The newest task (by start, else creation time).
    pub last_task: Option<&'a BackupTask>,
    pub total: usize,
}

impl<'a> BackupCenter<'a> {
    pub fn new(inventory: &'a Inventory, now: Timestamp) -> Self {
        Self::for_engine(inventory, now, None)
    }

    /// A view of one engine only (`None`: every engine found). Viewed as plain Velero, the
    /// velero.io objects of an ACK cluster are tasks in their own right.
    pub fn for_engine(inventory: &'a Inventory, now: Timestamp, only: Option<Engine>) -> Self {
        // Task namespaces come from the task index (one entry per namespace and vault), not
        // from the tasks: this runs on every scrape, cached or not. Each source lists by
        // namespace, so only a namespace's first entry is inserted.
        let mut last = "";
        let task_namespaces = inventory
            .task_index
            .counts
            .keys()
            .filter(|(_, _, engine)| *engine == Engine::Ack)
            .map(|(ns, _, _)| ns.as_str())
            .filter(|ns| std::mem::replace(&mut last, ns) != *ns);
        let mut ack_namespaces: BTreeSet<&str> = components::namespaces_of(&inventory.vaults.ack)
            .chain(components::namespaces_of(&inventory.schedules.ack))
            .chain(components::namespaces_of(&inventory.restores.ack))
            .chain(task_namespaces)
            .collect();
        let ack_components_seen = components::engine_seen(inventory, Engine::Ack, |_| true);
        if ack_components_seen {
            ack_namespaces.insert(ack::NAMESPACE);
        }
        if only == Some(Engine::Velero) {
            ack_namespaces.clear();
        }
        BackupCenter {
            inventory,
            now,
            ack_namespaces,
            only,
        }
    }

    /// What decides which objects are in view besides the objects themselves (the ACK
    /// namespaces, `--engine`), as one number: a view with the same number and unchanged
    /// vaults shows the same vaults. `DefaultHasher::new` hashes alike within a process (all
    /// a scrape compares with); two different sets meeting on one value is a 2^-64 chance.
    pub fn view_stamp(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        self.ack_namespaces.hash(&mut h);
        self.only.hash(&mut h);
        h.finish()
    }

    /// Hidden from the views: a velero.io object in an ACK namespace mirrors a csdr object and
    /// is never counted alone; objects of an engine `--engine` excluded.
    fn is_mirror(&self, engine: Engine, namespace: &str) -> bool {
        self.only.is_some_and(|only| only != engine)
            || (engine == Engine::Velero && self.ack_namespaces.contains(namespace))
    }

    /// The backup systems present, ACK first.
    pub fn engines(&self) -> Vec<Engine> {
        let mut engines = Vec::new();
        if !self.ack_namespaces.is_empty() {
            engines.push(Engine::Ack);
        }
        let inv = self.inventory;
        let velero_objects = inv
            .vaults
            .velero
            .keys()
            .chain(inv.backups.velero.keys())
            .chain(inv.schedules.velero.keys())
            .chain(inv.restores.velero.keys())
            .any(|(ns, _)| !self.ack_namespaces.contains(ns.as_str()));
        let velero_deployed =
            components::engine_seen(inv, Engine::Velero, |ns| !self.ack_namespaces.contains(ns));
        if velero_objects || velero_deployed {
            engines.push(Engine::Velero);
        }
        engines.retain(|e| self.only.is_none_or(|only| only == *e));
        engines
    }

    pub fn vaults(&self) -> impl Iterator<Item = &'a Vault> + '_ {
        self.inventory
            .vaults
            .iter()
            .filter(|v| !self.is_mirror(v.engine, &v.namespace))
    }

    /// The velero twin (same namespace and name) of an ACK object.
    fn twin<T>(
        &self,
        map: &'a crate::inventory::PerEngine<T>,
        engine: Engine,
        ns: &str,
        name: &str,
    ) -> Option<&'a T> {
        (engine == Engine::Ack)
            .then(|| map.velero.get(&(ns.into(), name.into())))
            .flatten()
            .map(|r| &**r)
    }

    pub fn vault_twin(&self, vault: &Vault) -> Option<&'a Vault> {
        self.twin(
            &self.inventory.vaults,
            vault.engine,
            &vault.namespace,
            &vault.name,
        )
    }

    /// Every backup task, twins excluded. Cheap: no twin lookup; ask [`Self::view`] for the
    /// detail of the few tasks that need it.
    pub fn tasks(&self) -> impl Iterator<Item = &'a BackupTask> + '_ {
        self.inventory
            .backups
            .iter()
            .filter(|t| !self.is_mirror(t.engine, &t.namespace))
    }

    /// A task with its twin.
    pub fn view(&self, task: &'a BackupTask) -> TaskView<'a> {
        TaskView {
            task,
            twin: self.twin(
                &self.inventory.backups,
                task.engine,
                &task.namespace,
                &task.name,
            ),
        }
    }

    pub fn task(&self, name: &str) -> Option<TaskView<'a>> {
        self.tasks().find(|t| t.name == name).map(|t| self.view(t))
    }

    pub fn restores(&self) -> impl Iterator<Item = RestoreView<'a>> + '_ {
        self.inventory
            .restores
            .iter()
            .filter(|r| !self.is_mirror(r.engine, &r.namespace))
            .map(|restore| RestoreView {
                restore,
                twin: self.twin(
                    &self.inventory.restores,
                    restore.engine,
                    &restore.namespace,
                    &restore.name,
                ),
            })
    }

    pub fn schedules(&self) -> impl Iterator<Item = &'a Schedule> + '_ {
        self.inventory
            .schedules
            .iter()
            .filter(|s| !self.is_mirror(s.engine, &s.namespace))
    }

    /// Runs per (engine, namespace, schedule name); manual tasks under the name "". Read from
    /// the inventory's task index, so it costs one lookup per schedule, not a walk of all tasks.
    pub fn schedule_runs(&self) -> HashMap<(Engine, &'a str, &'a str), ScheduleRuns<'a>> {
        let inv = self.inventory;
        inv.task_index
            .runs
            .iter()
            .filter(|((ns, _, engine), _)| !self.is_mirror(*engine, ns))
            .map(|((ns, schedule, engine), run)| {
                let last_task = run
                    .last_task
                    .as_ref()
                    .and_then(|(_, name)| inv.backup_shared(*engine, ns, name));
                let runs = ScheduleRuns {
                    last_success: run.last_success_time(),
                    last_task,
                    total: run.total as usize,
                };
                ((*engine, ns.as_str(), schedule.as_str()), runs)
            })
            .collect()
    }

    /// The task index's summary of each schedule's runs, twins excluded, in (namespace,
    /// schedule, engine) order: no task is looked up, which a scrape needs (see
    /// [`Self::schedule_runs`] for the newest task itself).
    pub fn run_index(&self) -> impl Iterator<Item = (&'a RunId, &'a RunIndex)> + '_ {
        self.inventory
            .task_index
            .runs
            .iter()
            .filter(|((ns, _, engine), _)| !self.is_mirror(*engine, ns))
    }

    /// One schedule's runs, when in view.
    pub fn run_of(&self, id: &RunId) -> Option<&'a RunIndex> {
        if self.is_mirror(id.2, &id.0) {
            return None;
        }
        self.inventory.task_index.runs.get(id)
    }

    /// Task counts per (namespace, vault) and outcome (index `Outcome as usize`), twins
    /// excluded, from the inventory's task index.
    pub fn task_counts(&self) -> HashMap<(&'a str, &'a str), [u64; Outcome::ALL.len()]> {
        self.sorted_task_counts().collect()
    }

    /// [`Self::task_counts`] in (namespace, vault) order, as the index keeps them: no map is
    /// built, which a scrape needs.
    pub fn sorted_task_counts(
        &self,
    ) -> impl Iterator<Item = ((&'a str, &'a str), [u64; Outcome::ALL.len()])> + '_ {
        let mut counts = self
            .inventory
            .task_index
            .counts
            .iter()
            .filter(|((ns, _, engine), _)| !self.is_mirror(*engine, ns))
            .map(|((ns, vault, _), c)| ((ns.as_str(), vault.as_str()), *c))
            .peekable();
        // One vault's engines are adjacent: add them up.
        std::iter::from_fn(move || {
            let (key, mut total) = counts.next()?;
            while let Some((_, c)) = counts.next_if(|(k, _)| *k == key) {
                for (t, n) in total.iter_mut().zip(c) {
                    *t += n;
                }
            }
            Some((key, total))
        })
    }

    /// One (namespace, vault) pair's entry of [`Self::sorted_task_counts`]; `None` when no
    /// task in view names the pair.
    pub fn task_counts_of(
        &self,
        namespace: &SharedStr,
        vault: &SharedStr,
    ) -> Option<[u64; Outcome::ALL.len()]> {
        let counts = &self.inventory.task_index.counts;
        let mut total: Option<[u64; Outcome::ALL.len()]> = None;
        for engine in [Engine::Ack, Engine::Velero] {
            if self.is_mirror(engine, namespace) {
                continue;
            }
            if let Some(c) = counts.get(&(namespace.clone(), vault.clone(), engine)) {
                let total = total.get_or_insert_default();
                for (t, n) in total.iter_mut().zip(c) {
                    *t += n;
                }
            }
        }
        total
    }

    /// Failed and unfinished tasks (the ones with per-task series), twins excluded.
    pub fn flagged_tasks(&self) -> impl Iterator<Item = &'a BackupTask> + '_ {
        let inv = self.inventory;
        self.flagged()
            .filter_map(|((engine, ns, name), _)| inv.backup_shared(*engine, ns, name))
    }

    /// The task index's entries of the failed and unfinished tasks, twins excluded, in
    /// (engine, namespace, name) order: what a scrape needs to know before it looks a task up.
    pub fn flagged(&self) -> impl Iterator<Item = (&'a FlaggedId, &'a Flagged)> + '_ {
        self.inventory
            .task_index
            .flagged
            .iter()
            .filter(|((engine, ns, _), _)| !self.is_mirror(*engine, ns))
    }

    /// One flagged task's index entry, when it is flagged and in view.
    pub fn flagged_entry(&self, id: &FlaggedId) -> Option<&'a Flagged> {
        if self.is_mirror(id.0, &id.1) {
            return None;
        }
        self.inventory.task_index.flagged.get(id)
    }

    /// Vaults in view with the revision at which each last changed, in [`Self::vaults`] order.
    pub fn vaults_changed(&self) -> impl Iterator<Item = (&'a Vault, u64)> + '_ {
        self.inventory
            .vaults_changed()
            .filter(|(v, _)| !self.is_mirror(v.engine, &v.namespace))
    }

    /// Schedules in view with the revision at which each last changed, in
    /// [`Self::schedules`] order.
    pub fn schedules_changed(&self) -> impl Iterator<Item = (&'a Schedule, u64)> + '_ {
        self.inventory
            .schedules_changed()
            .filter(|(s, _)| !self.is_mirror(s.engine, &s.namespace))
    }

    pub fn events(&self) -> impl Iterator<Item = &'a WarningEvent> + '_ {
        self.inventory.events.values()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{DataType, ReasonClass};
    use serde_json::{Value, json};

    pub(crate) fn inventory(objects: Vec<Value>) -> Inventory {
        Inventory::from_objects(&objects)
    }

    pub(crate) fn now() -> Timestamp {
        "2026-11-25T09:00:00Z".parse().unwrap()
    }

    pub(crate) fn ack_backup(name: &str, phase: &str, message: &str) -> Value {
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationBackup",
            "metadata": {"name": name, "namespace": "csdr"},
            "spec": {"backupType": "AppAndPvBackup", "storageLocation": "v1"},
            "status": {"phase": phase, "message": message}})
    }

    fn velero_backup(ns: &str, name: &str, phase: &str) -> Value {
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"storageLocation": "v1"},
            "status": {"phase": phase, "csiVolumeSnapshotsAttempted": 2,
                       "failureReason": "twin says timeout"}})
    }

    #[test]
    fn velero_twins_in_csdr_are_never_counted() {
        let inv = inventory(vec![
            ack_backup("a", "Failed", ""),
            velero_backup("csdr", "a", "Failed"),
            // A csdr-side velero object without an ACK twin is still a mirror, not a task.
            velero_backup("csdr", "orphan", "Completed"),
        ]);
        let c = BackupCenter::new(&inv, now());
        let tasks: Vec<_> = c.tasks().map(|t| c.view(t)).collect();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].task.engine, Engine::Ack);
        assert!(tasks[0].twin.is_some());
        assert_eq!(c.engines(), vec![Engine::Ack]);
        // Detail comes from the twin: snapshot counts and the failure reason.
        assert_eq!(c.data_type(&tasks[0]), DataType::Snapshot);
        assert_eq!(c.reason(&tasks[0]), ReasonClass::Timeout);
    }

    #[test]
    fn both_engines_side_by_side() {
        let inv = inventory(vec![
            ack_backup("a", "Completed", ""),
            velero_backup("velero", "b", "Completed"),
        ]);
        let c = BackupCenter::new(&inv, now());
        assert_eq!(c.tasks().count(), 2);
        assert_eq!(c.engines(), vec![Engine::Ack, Engine::Velero]);
    }

    #[test]
    fn reason_from_the_newest_warning_event() {
        let inv = inventory(vec![
            ack_backup("a", "Failed", ""),
            json!({"apiVersion": "v1", "kind": "Event", "type": "Warning",
                "metadata": {"name": "a.1", "namespace": "csdr"},
                "involvedObject": {"kind": "ApplicationBackup", "name": "a"},
                "lastTimestamp": "2026-11-25T08:00:00Z", "message": "HBRError: check HBR vault error"}),
            json!({"apiVersion": "v1", "kind": "Event", "type": "Warning",
                "metadata": {"name": "a.0", "namespace": "csdr"},
                "involvedObject": {"kind": "ApplicationBackup", "name": "a"},
                "lastTimestamp": "2026-11-25T07:00:00Z", "message": "internal error"}),
        ]);
        let c = BackupCenter::new(&inv, now());
        let t = c.task("a").unwrap();
        assert_eq!(c.reason(&t), ReasonClass::HbrError);
        assert_eq!(c.data_type(&t), DataType::Hbr);
    }

    #[test]
    fn partial_failure_without_message_and_unknown_data_type() {
        let inv = inventory(vec![ack_backup("a", "PartiallyFailed", "")]);
        let c = BackupCenter::new(&inv, now());
        let t = c.task("a").unwrap();
        assert_eq!(c.reason(&t), ReasonClass::PartialFailure);
        assert_eq!(c.data_type(&t), DataType::Unknown);
    }

    #[test]
    fn schedule_runs_pick_newest_success() {
        let mk = |name: &str, phase: &str, done: &str| {
            json!({"apiVersion": "velero.io/v1", "kind": "Backup",
                "metadata": {"name": name, "namespace": "velero", "labels": {"velero.io/schedule-name": "daily"}},
                "status": {"phase": phase, "startTimestamp": done, "completionTimestamp": done}})
        };
        let inv = inventory(vec![
            mk("daily-1", "Completed", "2026-11-23T02:00:00Z"),
            mk("daily-2", "Completed", "2026-11-24T02:00:00Z"),
            mk("daily-3", "Failed", "2026-11-25T02:00:00Z"),
        ]);
        let c = BackupCenter::new(&inv, now());
        let runs = c.schedule_runs();
        let daily = runs[&(Engine::Velero, "velero", "daily")];
        assert_eq!(daily.total, 3);
        assert_eq!(
            daily.last_success,
            Some("2026-11-24T02:00:00Z".parse().unwrap())
        );
        assert_eq!(daily.last_task.map(|t| t.name.as_str()), Some("daily-3"));
    }

    #[test]
    fn a_completed_backup_being_deleted_is_no_recovery_point() {
        let mk = |name: &str, done: &str| {
            json!({"apiVersion": "velero.io/v1", "kind": "Backup",
                "metadata": {"name": name, "namespace": "velero", "labels": {"velero.io/schedule-name": "daily"}},
                "status": {"phase": "Completed", "startTimestamp": done, "completionTimestamp": done}})
        };
        let mut deleting = mk("daily-2", "2026-11-24T02:00:00Z");
        deleting["metadata"]["deletionTimestamp"] = json!("2026-11-25T08:00:00Z");
        let inv = inventory(vec![mk("daily-1", "2026-11-23T02:00:00Z"), deleting]);
        let c = BackupCenter::new(&inv, now());
        let runs = c.schedule_runs();
        let daily = runs[&(Engine::Velero, "velero", "daily")];
        assert_eq!(
            daily.last_success,
            Some("2026-11-23T02:00:00Z".parse().unwrap()),
            "the backup being deleted is not the last success"
        );
        let counts = c.vault_counts("velero", "");
        assert_eq!(counts[Outcome::Completed as usize], 1);
        assert_eq!(
            counts[Outcome::Unknown as usize],
            1,
            "Deleting counts as other"
        );
    }
}
