//! The inventory: every record the sources delivered, keyed by identity, updated by one writer
//! (a snapshot load or the watch loop) and read by the views through [`crate::center`].
//!
//! It stores facts as they are, nothing decided: which velero object is a twin of an ACK one,
//! a task's data type or failure reason are decided when a view asks, so the order in which
//! objects arrive can never leave a stale decision behind. What it keeps besides the records
//! are indexes over them (per-vault counts, per-schedule newest tasks), maintained on every
//! change so that reading them never walks all tasks.

use crate::model::{
    BackupTask, Engine, Interner, Outcome, Pod, PodVolumeBackup, Record, RecordKey, RecordKind,
    RestoreTask, Schedule, SharedStr, TaskPhase, Timestamp, Vault, WarningEvent, Workload,
    WorkloadKind,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// The resources the inventory holds, as `backupscope_objects` names them.
pub const RESOURCES: &[&str] = &[
    "backuplocations",
    "applicationbackups",
    "backupschedules",
    "applicationrestores",
    "backupstoragelocations",
    "backups",
    "schedules",
    "restores",
    "podvolumebackups",
    "deployments",
    "daemonsets",
    "pods",
    "events",
];

/// Namespace and name: the identity of a namespaced object of one kind and engine. A backup
/// task's key shares its strings with the record.
pub type NsName = (SharedStr, SharedStr);

/// One map per engine, so ACK objects and their velero twins never collide.
///
/// Records are boxed: a B-tree node holds 11 entries and is about half full after a bulk
/// load, so a 300-byte record kept inline left as much empty node behind it (measured by
/// `benches/inventory_memory.rs`); a box costs its 8-byte pointer in the node instead.
#[derive(Debug, Clone)]
pub struct PerEngine<T> {
    pub ack: BTreeMap<NsName, Box<T>>,
    pub velero: BTreeMap<NsName, Box<T>>,
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
    pub fn get(&self, engine: Engine) -> &BTreeMap<NsName, Box<T>> {
        match engine {
            Engine::Ack => &self.ack,
            Engine::Velero => &self.velero,
        }
    }

    fn get_mut(&mut self, engine: Engine) -> &mut BTreeMap<NsName, Box<T>> {
        match engine {
            Engine::Ack => &mut self.ack,
            Engine::Velero => &mut self.velero,
        }
    }

    /// The record (namespace, name) of `engine`, looked up with borrowed strings: no key is
    /// built (two shared strings would cost two reference-count round trips a lookup).
    pub fn get_named(&self, engine: Engine, namespace: &str, name: &str) -> Option<&T> {
        self.get(engine)
            .get(&(namespace, name) as &dyn PairKey)
            .map(|r| &**r)
    }

    pub fn len(&self) -> usize {
        self.ack.len() + self.velero.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.ack.values().chain(self.velero.values()).map(|r| &**r)
    }
}

/// A (namespace, name) key as borrowed strings, so that maps keyed by [`NsName`] can be
/// searched with `&str`s (a tuple of owned strings cannot lend a tuple of `&str`s). Ordered
/// as `NsName` orders: by namespace, then name, as text.
trait PairKey {
    fn pair(&self) -> (&str, &str);
}

impl PairKey for NsName {
    fn pair(&self) -> (&str, &str) {
        (self.0.as_str(), self.1.as_str())
    }
}

impl PairKey for (&str, &str) {
    fn pair(&self) -> (&str, &str) {
        (self.0, self.1)
    }
}

impl<'a> std::borrow::Borrow<dyn PairKey + 'a> for NsName {
    fn borrow(&self) -> &(dyn PairKey + 'a) {
        self
    }
}

impl PartialEq for dyn PairKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.pair() == other.pair()
    }
}

impl Eq for dyn PairKey + '_ {}

impl PartialOrd for dyn PairKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn PairKey + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.pair().cmp(&other.pair())
    }
}

/// Two-level index `namespace -> name -> entries`, looked up with borrowed strings.
type Nested<T> = HashMap<String, HashMap<String, T>>;

fn nested_insert<'a, T: Default>(index: &'a mut Nested<T>, ns: &str, name: &str) -> &'a mut T {
    index
        .entry(ns.to_string())
        .or_default()
        .entry(name.to_string())
        .or_default()
}

fn nested_remove<T>(index: &mut Nested<T>, ns: &str, name: &str, empty: impl Fn(&T) -> bool) {
    if let Some(inner) = index.get_mut(ns) {
        if inner.get(name).is_some_and(empty) {
            inner.remove(name);
        }
        if inner.is_empty() {
            index.remove(ns);
        }
    }
}

/// Aggregates over backup tasks, kept current on every change so that a scrape never walks
/// all tasks (kube-state-metrics' lesson: per-scrape work over every object does not scale).
/// They are indexes of stored facts, not decisions: the center still decides what they mean.
#[derive(Debug, Clone, Default)]
pub struct TaskIndex {
    /// (namespace, vault, engine) -> tasks per outcome, indexed by `Outcome as usize`; in
    /// the order the count family lists them.
    pub counts: BTreeMap<(SharedStr, SharedStr, Engine), [u64; Outcome::ALL.len()]>,
    /// Tasks that get per-task series: failed and unfinished ones (engine, namespace, name).
    pub flagged: BTreeMap<FlaggedId, Flagged>,
    /// Which flagged tasks came, changed or went, and when: a scrape renders those again
    /// instead of walking all flagged tasks.
    flagged_log: ChangeLog<FlaggedId>,
    /// Which (namespace, vault) pairs' counts changed, and when (engines not told apart: the
    /// count family lists a pair once).
    counts_log: ChangeLog<NsName>,
    /// Each schedule's runs, in the order the schedule families list them.
    pub runs: BTreeMap<RunId, RunIndex>,
    /// Which schedules' newest success time or newest outcome changed (or whose runs came or
    /// went), and when.
    runs_log: ChangeLog<RunId>,
}

/// A schedule's identity in the task index: namespace, schedule name ("" for the namespace's
/// manual tasks), engine.
pub type RunId = (SharedStr, SharedStr, Engine);

/// A flagged task's identity: engine, namespace, name.
pub type FlaggedId = (Engine, SharedStr, SharedStr);

/// The newest changes to a set of keys, as (revision, key) in revision order, up to
/// [`ChangeLog::CAPACITY`]: enough for the changes between two scrapes, and when more came
/// than it keeps, a reader walks everything instead (as it would have to anyway).
#[derive(Debug, Clone)]
struct ChangeLog<K> {
    entries: VecDeque<(u64, K)>,
    /// The revision of the newest change no longer kept: changes since an older revision
    /// cannot be told from the log.
    floor: u64,
}

impl<K> Default for ChangeLog<K> {
    fn default() -> Self {
        ChangeLog {
            entries: VecDeque::new(),
            floor: 0,
        }
    }
}

impl<K: Ord> ChangeLog<K> {
    const CAPACITY: usize = 16 * 1024;

    fn record(&mut self, revision: u64, key: K) {
        if self.entries.len() == Self::CAPACITY
            && let Some((dropped, _)) = self.entries.pop_front()
        {
            self.floor = dropped;
        }
        self.entries.push_back((revision, key));
    }

    fn last(&self) -> u64 {
        self.entries.back().map_or(self.floor, |(r, _)| *r)
    }

    /// The keys changed after `revision`, sorted, each once; `None` when the log no longer
    /// reaches back that far.
    fn since(&self, revision: u64) -> Option<Vec<&K>> {
        if revision < self.floor {
            return None;
        }
        let first = self.entries.partition_point(|(r, _)| *r <= revision);
        let mut keys: Vec<&K> = self.entries.range(first..).map(|(_, k)| k).collect();
        keys.sort_unstable();
        keys.dedup();
        Some(keys)
    }
}

/// What the index keeps of a flagged task: enough to tell, without looking the task up,
/// which per-task series it has and whether their bytes can be reused.
#[derive(Debug, Clone)]
pub struct Flagged {
    pub vault: SharedStr,
    /// Failed (else unfinished).
    pub failed: bool,
    /// The inventory revision at which anything a view reads about this task last changed:
    /// the task, its velero twin, a Warning event or a PodVolumeBackup about it.
    pub changed: u64,
}

/// Two indexes agree on a flagged task when they hold the same facts; `changed` says when,
/// not what, and differs between inventories that got the same objects in other orders.
impl PartialEq for Flagged {
    fn eq(&self, other: &Self) -> bool {
        self.vault == other.vault && self.failed == other.failed
    }
}

/// A task's place in time: (time, name), the name breaking ties.
type TimeKey = (Option<Timestamp>, SharedStr);

/// The tasks of one schedule, summarised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunIndex {
    pub total: u64,
    /// Newest Completed task: (completion, else start, else creation time; name).
    pub last_success: Option<TimeKey>,
    /// Newest task: (start, else creation time; name).
    pub last_task: Option<TimeKey>,
    /// The newest task's outcome: a scrape reads it for every schedule, and a lookup of the
    /// task among 100 000 per schedule cost more than the rest of the scrape.
    pub last_outcome: Option<Outcome>,
    /// Every task (with its outcome) and every success of the schedule in time order, so the
    /// newest is known after any change, even when the newest goes away: re-finding it by
    /// walking all tasks made bulk changes (a schedule's tasks deleted newest first) quadratic.
    tasks: BTreeMap<TimeKey, Outcome>,
    successes: BTreeSet<TimeKey>,
}

impl RunIndex {
    /// When the newest success ended (else started, else was created).
    pub fn last_success_time(&self) -> Option<Timestamp> {
        self.last_success.as_ref().and_then(|(t, _)| *t)
    }

    /// What the schedule families show of the runs: a change to it is logged.
    fn shown(&self) -> (Option<Timestamp>, Option<Outcome>) {
        (self.last_success_time(), self.last_outcome)
    }

    fn refresh(&mut self) {
        self.total = self.tasks.len() as u64;
        let last = self.tasks.last_key_value();
        if self.last_task.as_ref() != last.map(|(k, _)| k) {
            self.last_task = last.map(|(k, _)| k.clone());
        }
        self.last_outcome = last.map(|(_, o)| *o);
        if self.last_success.as_ref() != self.successes.last() {
            self.last_success = self.successes.last().cloned();
        }
    }
}

fn success_key(t: &BackupTask) -> Option<TimeKey> {
    (t.phase == TaskPhase::Completed)
        .then(|| (t.completed.or(t.started).or(t.created), t.name.clone()))
}

fn task_key(t: &BackupTask) -> TimeKey {
    (t.started.or(t.created), t.name.clone())
}

impl TaskIndex {
    fn add(&mut self, t: &BackupTask, revision: u64) {
        self.counts
            .entry((t.namespace.clone(), t.vault.clone(), t.engine))
            .or_default()[t.phase.outcome() as usize] += 1;
        self.counts_log
            .record(revision, (t.namespace.clone(), t.vault.clone()));
        if t.phase.is_failure() || t.phase.is_active() {
            let id = (t.engine, t.namespace.clone(), t.name.clone());
            self.flagged_log.record(revision, id.clone());
            self.flagged.insert(
                id,
                Flagged {
                    vault: t.vault.clone(),
                    failed: t.phase.is_failure(),
                    changed: revision,
                },
            );
        }
        let run_key = (t.namespace.clone(), t.schedule.clone(), t.engine);
        let run = self.runs.entry(run_key.clone()).or_default();
        let shown = run.shown();
        run.tasks.insert(task_key(t), t.phase.outcome());
        if let Some(success) = success_key(t) {
            run.successes.insert(success);
        }
        run.refresh();
        if run.shown() != shown {
            self.runs_log.record(revision, run_key);
        }
    }

    /// Whether two versions of a task sit in the same places of the index: then replacing
    /// one with the other leaves the index as it is.
    fn same_entries(a: &BackupTask, b: &BackupTask) -> bool {
        a.phase == b.phase
            && a.started == b.started
            && a.created == b.created
            && a.completed == b.completed
            && a.vault == b.vault
            && a.schedule == b.schedule
            && a.engine == b.engine
            && a.namespace == b.namespace
            && a.name == b.name
    }

    /// Marks what a view reads about the task (engine, namespace, name) as changed, when it
    /// is flagged.
    fn touch(&mut self, engine: Engine, namespace: &SharedStr, name: &SharedStr, revision: u64) {
        let id = (engine, namespace.clone(), name.clone());
        if let Some(f) = self.flagged.get_mut(&id) {
            f.changed = revision;
            self.flagged_log.record(revision, id);
        }
    }

    /// The revision at which a flagged task last came, changed or went.
    pub fn flagged_changed_at(&self) -> u64 {
        self.flagged_log.last()
    }

    /// The flagged tasks (present or gone) that came, changed or went after `revision`,
    /// sorted; `None` when too many changed since to tell.
    pub fn flagged_changed_since(&self, revision: u64) -> Option<Vec<&FlaggedId>> {
        self.flagged_log.since(revision)
    }

    /// The revision at which a (namespace, vault) pair's counts last changed.
    pub fn counts_changed_at(&self) -> u64 {
        self.counts_log.last()
    }

    /// The (namespace, vault) pairs whose counts changed after `revision`, sorted; `None`
    /// when too many changed since to tell.
    pub fn counts_changed_since(&self, revision: u64) -> Option<Vec<&NsName>> {
        self.counts_log.since(revision)
    }

    /// The revision at which what the schedule families show of a schedule's runs last
    /// changed.
    pub fn runs_changed_at(&self) -> u64 {
        self.runs_log.last()
    }

    /// The schedules (runs present or gone) whose shown runs changed after `revision`,
    /// sorted; `None` when too many changed since to tell.
    pub fn runs_changed_since(&self, revision: u64) -> Option<Vec<&RunId>> {
        self.runs_log.since(revision)
    }

    /// Takes `old` out (at `revision`).
    fn remove(&mut self, old: &BackupTask, revision: u64) {
        let counts_key = (old.namespace.clone(), old.vault.clone(), old.engine);
        if let Some(c) = self.counts.get_mut(&counts_key) {
            let slot = &mut c[old.phase.outcome() as usize];
            *slot = slot.saturating_sub(1);
            if c.iter().all(|n| *n == 0) {
                self.counts.remove(&counts_key);
            }
            self.counts_log
                .record(revision, (old.namespace.clone(), old.vault.clone()));
        }
        let id = (old.engine, old.namespace.clone(), old.name.clone());
        if self.flagged.remove(&id).is_some() {
            self.flagged_log.record(revision, id);
        }
        let run_key = (old.namespace.clone(), old.schedule.clone(), old.engine);
        let Some(run) = self.runs.get_mut(&run_key) else {
            return;
        };
        let shown = run.shown();
        run.tasks.remove(&task_key(old));
        if let Some(success) = success_key(old) {
            run.successes.remove(&success);
        }
        let changed = if run.tasks.is_empty() {
            self.runs.remove(&run_key);
            true
        } else {
            run.refresh();
            run.shown() != shown
        };
        if changed {
            self.runs_log.record(revision, run_key);
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// What the absence of a workload means: see [`Coverage`].
    pub workload_coverage: Coverage,
    pub vaults: PerEngine<Vault>,
    pub backups: PerEngine<BackupTask>,
    pub schedules: PerEngine<Schedule>,
    pub restores: PerEngine<RestoreTask>,
    pub pod_volume_backups: BTreeMap<NsName, PodVolumeBackup>,
    pub deployments: BTreeMap<NsName, Workload>,
    pub daemonsets: BTreeMap<NsName, Workload>,
    pub pods: BTreeMap<NsName, Pod>,
    pub events: BTreeMap<NsName, WarningEvent>,
    pub task_index: TaskIndex,
    /// namespace -> backup name -> PodVolumeBackup names: file-system backups per task.
    pvb_index: Nested<BTreeSet<String>>,
    /// involved namespace -> involved name -> (event namespace, event name).
    event_index: Nested<BTreeSet<NsName>>,
    /// Bumped on every change; lets views cache work per inventory state.
    revision: u64,
    /// When each vault and schedule last changed: the scrape reuses the bytes of those that
    /// did not.
    vault_changes: Changes,
    schedule_changes: Changes,
    /// The one copy of each repeated value of the backup tasks.
    strings: Interner,
}

/// How much of the cluster's workloads a source holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Coverage {
    /// A live source lists every Deployment, DaemonSet and Pod of the namespaces it reads: a
    /// component with no object there is not installed (`NotFound`).
    #[default]
    Listed,
    /// A snapshot holds what someone exported, often the backup objects alone (a bug report,
    /// a ticket): a namespace where it holds none of the backup center's workloads or pods
    /// was not exported, which says nothing about the components that run there.
    Exported,
}

/// The revision at which each record of one kind last changed, keyed as the kind's per-engine
/// maps are (so the two iterate in step), and at which any of them last came, changed or went.
#[derive(Debug, Clone, Default)]
struct Changes {
    per_record: [BTreeMap<NsName, u64>; 2],
    any: u64,
}

impl Changes {
    fn changed(&mut self, engine: Engine, id: NsName, revision: u64) {
        self.per_record[engine as usize].insert(id, revision);
        self.any = revision;
    }

    fn removed(&mut self, engine: Engine, id: &NsName, revision: u64) {
        if self.per_record[engine as usize].remove(id).is_some() {
            self.any = revision;
        }
    }

    /// The records of `map` (the kind these changes are of) beside the revisions they
    /// changed at, in [`PerEngine::iter`] order.
    fn zip<'a, T>(&'a self, map: &'a PerEngine<T>) -> impl Iterator<Item = (&'a T, u64)> {
        let [ack, velero] = &self.per_record;
        debug_assert_eq!((map.ack.len(), map.velero.len()), (ack.len(), velero.len()));
        let ack = map.ack.values().zip(ack.values());
        let velero = map.velero.values().zip(velero.values());
        ack.chain(velero).map(|(r, c)| (&**r, *c))
    }
}

fn ns_name(key: &RecordKey) -> NsName {
    (key.namespace.as_str().into(), key.name.as_str().into())
}

/// A record's identity in its map; a backup task's shares the record's strings.
fn record_id(record: &Record) -> NsName {
    let pair = |ns: &str, name: &str| (SharedStr::from(ns), SharedStr::from(name));
    match record {
        Record::Backup(b) => (b.namespace.clone(), b.name.clone()),
        Record::Vault(v) => pair(&v.namespace, &v.name),
        Record::Schedule(s) => pair(&s.namespace, &s.name),
        Record::Restore(r) => pair(&r.namespace, &r.name),
        Record::PodVolumeBackup(p) => pair(&p.namespace, &p.name),
        Record::Workload(w) => pair(&w.namespace, &w.name),
        Record::Pod(p) => pair(&p.namespace, &p.name),
        Record::Event(e) => pair(&e.namespace, &e.name),
    }
}

impl Inventory {
    pub fn new() -> Self {
        Self::default()
    }

    /// The inventory of raw objects (as the API server or kubectl gives them); objects that are
    /// not records of the backup center are left out, as every source leaves them out.
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a serde_json::Value>) -> Self {
        objects
            .into_iter()
            .filter_map(|o| match crate::dialect::map(o) {
                Ok(crate::dialect::Mapped::Record(r)) => Some(*r),
                _ => None,
            })
            .collect()
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Inserts or replaces a record.
    pub fn apply(&mut self, record: Record) {
        let id = record_id(&record);
        // Most updates touch fields the model does not keep (progress, resourceVersion):
        // nothing changes, and views keep what they cached for this revision.
        if self.holds(&id, &record) {
            return;
        }
        // A replaced PVB or event may point elsewhere now: drop its index entries first.
        if matches!(record, Record::PodVolumeBackup(_) | Record::Event(_)) {
            self.remove(&record.key());
        }
        self.revision += 1;
        let revision = self.revision;
        match record {
            Record::Vault(v) => {
                self.vault_changes.changed(v.engine, id.clone(), revision);
                self.vaults.get_mut(v.engine).insert(id, Box::new(v));
            }
            Record::Backup(mut b) => {
                for s in [
                    &mut b.vault,
                    &mut b.schedule,
                    &mut b.raw_phase,
                    &mut b.message,
                ] {
                    self.strings.str(s);
                }
                self.strings.str(&mut b.ttl);
                self.strings.list(&mut b.included_namespaces);
                let engine = b.engine;
                let tasks = self.backups.get_mut(engine);
                match tasks.get_mut(&id) {
                    Some(old) => {
                        // The map keeps the old key: the record shares its strings.
                        (b.namespace, b.name) = (old.namespace.clone(), old.name.clone());
                        if TaskIndex::same_entries(old, &b) {
                            self.task_index
                                .touch(b.engine, &b.namespace, &b.name, revision);
                        } else {
                            self.task_index.remove(old, revision);
                            self.task_index.add(&b, revision);
                        }
                        **old = b;
                    }
                    None => {
                        self.strings.str(&mut b.namespace);
                        self.task_index.add(&b, revision);
                        tasks.insert((b.namespace.clone(), b.name.clone()), Box::new(b));
                    }
                }
                // An ACK task reads its velero twin.
                if engine == Engine::Velero {
                    self.task_index.touch(Engine::Ack, &id.0, &id.1, revision);
                }
            }
            Record::Schedule(s) => {
                self.schedule_changes
                    .changed(s.engine, id.clone(), revision);
                self.schedules.get_mut(s.engine).insert(id, Box::new(s));
            }
            Record::Restore(r) => {
                self.restores.get_mut(r.engine).insert(id, Box::new(r));
            }
            Record::PodVolumeBackup(p) => {
                self.touch_task(&p.namespace, &p.backup, revision);
                nested_insert(&mut self.pvb_index, &p.namespace, &p.backup).insert(p.name.clone());
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
                self.touch_task(involved_namespace(&e), &e.involved_name, revision);
                nested_insert(
                    &mut self.event_index,
                    involved_namespace(&e),
                    &e.involved_name,
                )
                .insert(id.clone());
                self.events.insert(id, e);
            }
        }
    }

    /// Whether exactly this record is stored already.
    fn holds(&self, id: &NsName, record: &Record) -> bool {
        match record {
            Record::Vault(v) => self.vaults.get(v.engine).get(id).is_some_and(|o| **o == *v),
            Record::Backup(b) => self
                .backups
                .get(b.engine)
                .get(id)
                .is_some_and(|o| **o == *b),
            Record::Schedule(s) => self
                .schedules
                .get(s.engine)
                .get(id)
                .is_some_and(|o| **o == *s),
            Record::Restore(r) => self
                .restores
                .get(r.engine)
                .get(id)
                .is_some_and(|o| **o == *r),
            Record::PodVolumeBackup(p) => self.pod_volume_backups.get(id) == Some(p),
            Record::Workload(w) => match w.kind {
                WorkloadKind::Deployment => self.deployments.get(id) == Some(w),
                WorkloadKind::DaemonSet => self.daemonsets.get(id) == Some(w),
            },
            Record::Pod(p) => self.pods.get(id) == Some(p),
            Record::Event(e) => self.events.get(id) == Some(e),
        }
    }

    /// Removes a record; returns whether it was there.
    pub fn remove(&mut self, key: &RecordKey) -> bool {
        let id = ns_name(key);
        let engine = key.engine.unwrap_or(Engine::Velero);
        // The revision this removal makes, if it removes anything.
        let revision = self.revision + 1;
        let removed = match key.kind {
            RecordKind::Vault => {
                self.vault_changes.removed(engine, &id, revision);
                self.vaults.get_mut(engine).remove(&id).is_some()
            }
            RecordKind::Backup => match self.backups.get_mut(engine).remove(&id) {
                Some(old) => {
                    self.task_index.remove(&old, revision);
                    if engine == Engine::Velero {
                        self.task_index
                            .touch(Engine::Ack, &old.namespace, &old.name, revision);
                    }
                    true
                }
                None => false,
            },
            RecordKind::Schedule => {
                self.schedule_changes.removed(engine, &id, revision);
                self.schedules.get_mut(engine).remove(&id).is_some()
            }
            RecordKind::Restore => self.restores.get_mut(engine).remove(&id).is_some(),
            RecordKind::PodVolumeBackup => match self.pod_volume_backups.remove(&id) {
                Some(p) => {
                    self.touch_task(&p.namespace, &p.backup, revision);
                    if let Some(names) = self
                        .pvb_index
                        .get_mut(&p.namespace)
                        .and_then(|m| m.get_mut(&p.backup))
                    {
                        names.remove(&p.name);
                    }
                    nested_remove(
                        &mut self.pvb_index,
                        &p.namespace,
                        &p.backup,
                        BTreeSet::is_empty,
                    );
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
                    let ins = involved_namespace(&e);
                    self.touch_task(ins, &e.involved_name, revision);
                    if let Some(set) = self
                        .event_index
                        .get_mut(ins)
                        .and_then(|m| m.get_mut(&e.involved_name))
                    {
                        set.remove(&id);
                    }
                    nested_remove(
                        &mut self.event_index,
                        ins,
                        &e.involved_name,
                        BTreeSet::is_empty,
                    );
                    true
                }
                None => false,
            },
        };
        if removed {
            self.revision = revision;
        }
        removed
    }

    /// Marks what views read about the backup task `namespace/name` (either engine) as
    /// changed at `revision`: an event or PodVolumeBackup about it came, changed or went.
    fn touch_task(&mut self, namespace: &str, name: &str, revision: u64) {
        let (namespace, name) = (SharedStr::from(namespace), SharedStr::from(name));
        for engine in [Engine::Ack, Engine::Velero] {
            self.task_index.touch(engine, &namespace, &name, revision);
        }
    }

    /// The revision at which any vault last came, changed or went.
    pub fn vaults_changed_at(&self) -> u64 {
        self.vault_changes.any
    }

    /// The revision at which any schedule last came, changed or went.
    pub fn schedules_changed_at(&self) -> u64 {
        self.schedule_changes.any
    }

    /// Vaults with the revision at which each last changed, in [`PerEngine::iter`] order.
    pub fn vaults_changed(&self) -> impl Iterator<Item = (&Vault, u64)> {
        self.vault_changes.zip(&self.vaults)
    }

    /// Schedules with the revision at which each last changed, in [`PerEngine::iter`] order.
    pub fn schedules_changed(&self) -> impl Iterator<Item = (&Schedule, u64)> {
        self.schedule_changes.zip(&self.schedules)
    }

    /// Every key of one kind (and engine), for reconciling a relist: what the new list does
    /// not contain is removed by the caller.
    pub fn keys(&self, kind: RecordKind, engine: Option<Engine>) -> Vec<RecordKey> {
        let mk = |(ns, name): &NsName| RecordKey {
            kind,
            engine,
            namespace: ns.to_string(),
            name: name.to_string(),
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
        self.pvb_index
            .get(namespace)
            .and_then(|m| m.get(backup))
            .map_or(0, BTreeSet::len)
    }

    /// Non-Normal events about one object, newest last.
    pub fn events_about(&self, namespace: &str, name: &str) -> Vec<&WarningEvent> {
        let Some(ids) = self.event_index.get(namespace).and_then(|m| m.get(name)) else {
            return Vec::new();
        };
        let mut events: Vec<&WarningEvent> =
            ids.iter().filter_map(|id| self.events.get(id)).collect();
        events.sort_by_key(|e| (e.last, e.first));
        events
    }

    /// A backup task by engine, namespace and name.
    pub fn backup(&self, engine: Engine, namespace: &str, name: &str) -> Option<&BackupTask> {
        self.backups
            .get(engine)
            .get(&(namespace.into(), name.into()))
            .map(|t| &**t)
    }

    /// A backup task by keys the caller already holds as shared strings: no allocation, which
    /// matters to a scrape that looks up thousands of them.
    pub fn backup_shared(
        &self,
        engine: Engine,
        namespace: &SharedStr,
        name: &SharedStr,
    ) -> Option<&BackupTask> {
        self.backups
            .get(engine)
            .get(&(namespace.clone(), name.clone()))
            .map(|t| &**t)
    }

    /// How many records of each resource the inventory holds (`backupscope_objects`), in
    /// [`RESOURCES`] order.
    pub fn object_counts(&self) -> [(&'static str, usize); RESOURCES.len()] {
        let counts = [
            self.vaults.ack.len(),
            self.backups.ack.len(),
            self.schedules.ack.len(),
            self.restores.ack.len(),
            self.vaults.velero.len(),
            self.backups.velero.len(),
            self.schedules.velero.len(),
            self.restores.velero.len(),
            self.pod_volume_backups.len(),
            self.deployments.len(),
            self.daemonsets.len(),
            self.pods.len(),
            self.events.len(),
        ];
        let mut out = [("", 0); RESOURCES.len()];
        for (slot, (name, n)) in out.iter_mut().zip(RESOURCES.iter().zip(counts)) {
            *slot = (name, n);
        }
        out
    }

    /// The task index as it would be rebuilt from scratch (tests compare it with the
    /// incrementally maintained one).
    pub fn rebuilt_task_index(&self) -> TaskIndex {
        let mut index = TaskIndex::default();
        for t in self.backups.iter() {
            index.add(t, self.revision);
        }
        index
    }
}

impl FromIterator<Record> for Inventory {
    fn from_iter<I: IntoIterator<Item = Record>>(records: I) -> Self {
        let mut inventory = Inventory::new();
        for r in records {
            inventory.apply(r);
        }
        inventory
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

    /// A tiny deterministic generator: the test needs variety, not a dependency.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn task_index_equals_a_rebuild_after_random_changes() {
        let phases = [
            "Completed",
            "Failed",
            "InProgress",
            "PartiallyFailed",
            "New",
            "Weird",
            "",
        ];
        let mut rng = Lcg(7);
        let mut inv = Inventory::new();
        let snapshot = |inv: &Inventory| {
            let index = &inv.task_index;
            (
                inv.revision(),
                index.flagged.clone(),
                index.counts.clone(),
                index.runs.clone(),
            )
        };
        let mut before = snapshot(&inv);
        for step in 0..5_000 {
            let name = format!("task-{}", rng.next(60));
            let engine_ack = rng.next(4) == 0;
            if rng.next(5) == 0 {
                let key = RecordKey {
                    kind: RecordKind::Backup,
                    engine: Some(if engine_ack {
                        Engine::Ack
                    } else {
                        Engine::Velero
                    }),
                    namespace: "ns".into(),
                    name,
                };
                inv.remove(&key);
            } else {
                let t = |h: u64| format!("2026-11-{:02}T{:02}:00:00Z", 1 + h / 24, h % 24);
                let start = rng.next(600);
                let api = if engine_ack {
                    "csdr.alibabacloud.com/v1beta1"
                } else {
                    "velero.io/v1"
                };
                let kind = if engine_ack {
                    "ApplicationBackup"
                } else {
                    "Backup"
                };
                let label = if engine_ack {
                    "csdr/schedule-name"
                } else {
                    "velero.io/schedule-name"
                };
                let mut labels = serde_json::Map::new();
                if rng.next(3) > 0 {
                    labels.insert(label.into(), json!(format!("s{}", rng.next(4))));
                }
                inv.apply(record(json!({"apiVersion": api, "kind": kind,
                    "metadata": {"name": name, "namespace": "ns", "labels": labels},
                    "spec": {"storageLocation": format!("v{}", rng.next(3))},
                    "status": {"phase": phases[rng.next(phases.len() as u64) as usize],
                               "startTimestamp": t(start), "completionTimestamp": t(start + rng.next(5))}})));
            }
            if step % 97 == 0 {
                let rebuilt = inv.rebuilt_task_index();
                assert_eq!(inv.task_index.counts, rebuilt.counts, "step {step}");
                assert_eq!(inv.task_index.flagged, rebuilt.flagged, "step {step}");
                assert_eq!(inv.task_index.runs, rebuilt.runs, "step {step}");
                // Every flagged task that came, went or changed since the last check is in
                // the log (what a scrape renders again; the rest it copies).
                let since = inv
                    .task_index
                    .flagged_changed_since(before.0)
                    .expect("kept");
                let now = &inv.task_index.flagged;
                let moved = |id: &FlaggedId| match (before.1.get(id), now.get(id)) {
                    (Some(a), Some(b)) => a.changed != b.changed || a != b,
                    (a, b) => a.is_some() != b.is_some(),
                };
                for id in before.1.keys().chain(now.keys()).filter(|id| moved(id)) {
                    assert!(
                        since.binary_search(&id).is_ok(),
                        "step {step}: {id:?} not logged"
                    );
                }
                // Likewise every (namespace, vault) whose counts changed in any engine, and
                // every schedule whose shown runs did.
                let since = inv.task_index.counts_changed_since(before.0).expect("kept");
                let now = &inv.task_index.counts;
                for (ns, vault, engine) in before.2.keys().chain(now.keys()) {
                    let key = (ns.clone(), vault.clone(), *engine);
                    if before.2.get(&key) != now.get(&key) {
                        let pair = (ns.clone(), vault.clone());
                        assert!(
                            since.binary_search(&&pair).is_ok(),
                            "step {step}: counts of {pair:?} not logged"
                        );
                    }
                }
                let since = inv.task_index.runs_changed_since(before.0).expect("kept");
                let now = &inv.task_index.runs;
                for id in before.3.keys().chain(now.keys()) {
                    if before.3.get(id).map(RunIndex::shown) != now.get(id).map(RunIndex::shown) {
                        assert!(
                            since.binary_search(&id).is_ok(),
                            "step {step}: runs of {id:?} not logged"
                        );
                    }
                }
                before = snapshot(&inv);
            }
        }
    }

    #[test]
    fn change_log_says_when_it_no_longer_reaches_back() {
        let mut log = ChangeLog::default();
        let id = |i: usize| {
            (
                Engine::Velero,
                SharedStr::from("ns"),
                SharedStr::from(format!("t{i}").as_str()),
            )
        };
        for revision in 1..=ChangeLog::<FlaggedId>::CAPACITY as u64 + 10 {
            log.record(revision, id(revision as usize % 3));
        }
        assert_eq!(log.last(), ChangeLog::<FlaggedId>::CAPACITY as u64 + 10);
        // The ten oldest changes were dropped: changes since revision 9 are unknown.
        assert_eq!(log.since(9), None);
        assert_eq!(log.since(10).map(|k| k.len()), Some(3));
        let recent = log
            .since(ChangeLog::<FlaggedId>::CAPACITY as u64 + 9)
            .expect("kept");
        assert_eq!(
            recent,
            vec![&id((ChangeLog::<FlaggedId>::CAPACITY + 10) % 3)]
        );
        assert_eq!(
            log.since(ChangeLog::<FlaggedId>::CAPACITY as u64 + 10),
            Some(vec![])
        );
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
