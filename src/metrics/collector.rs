//! Derives every metric from the current state of the backup center at collection time, the
//! way exporters should (Prometheus "writing exporters"): nothing is incremented in process,
//! so nothing drifts or resets the way Velero's own counters do; a deleted object's series
//! simply stops being rendered.

use super::contract::Declared;
use super::families as f;
use super::sink::MetricSink;
use super::units::{Key, NEVER, Reuse, Stamp, Text, Units};
use crate::center::BackupCenter;
use crate::center::order::by_name_order;
use crate::inventory::{Flagged, FlaggedId, RunId, RunIndex};
use crate::model::{
    BackupTask, ComponentStatus, ContainerSpec, Engine, Outcome, PodPhase, Resources,
    SchedulePhase, Timestamp, VaultPhase,
};
use crate::source::health::SourceHealth;
use crate::source::kube::DISCOVERY;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a rendering that reused the previous one went: units copied and units rendered, and
/// families spliced (only their changed units visited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reused {
    pub copied: u64,
    pub rendered: u64,
    pub spliced: u64,
}

/// What the collector is told to leave out.
#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    /// Family names not to export (only [`f::OPTIONAL`] ones are accepted by the CLI).
    pub disabled: HashSet<String>,
}

/// Collects metrics; keeps only what must outlive one scrape (the warning-event totals and
/// the previous scrape's duration).
#[derive(Debug, Default)]
pub struct Collector {
    options: CollectOptions,
    events: Mutex<EventTotals>,
    last_duration_nanos: AtomicU64,
    /// The vault probes' and scans' latest results, when `serve` runs them.
    vaults: Option<std::sync::Arc<crate::vault::Board>>,
    doctor: Mutex<Option<DoctorCounts>>,
}

/// Doctor findings counted per (namespace, rule, severity) at one instant: scrapes reuse them
/// for a minute instead of diagnosing again (a diagnosis at 100k tasks costs tens of ms, see
/// docs/BENCHMARKS.md).
#[derive(Debug)]
struct DoctorCounts {
    at: Timestamp,
    /// The vault probe round the findings saw: a new round diagnoses again.
    probe_round: u64,
    counts: Vec<((String, &'static str, &'static str), u64)>,
}

/// Warning-event totals that never go down although Kubernetes expires events after an hour:
/// each event object's `count` is added once, its increases as they are seen.
#[derive(Debug, Default)]
struct EventTotals {
    seen: HashMap<(String, String), u64>,
    totals: BTreeMap<(String, String, String), u64>,
}

impl EventTotals {
    fn observe<'a>(&mut self, events: impl Iterator<Item = &'a crate::model::WarningEvent>) {
        let mut alive = HashSet::new();
        for e in events {
            let id = (e.namespace.clone(), e.name.clone());
            let before = self.seen.get(&id).copied().unwrap_or(0);
            let count = e.count.max(1);
            if count > before {
                *self
                    .totals
                    .entry((
                        e.namespace.clone(),
                        e.involved_kind.clone(),
                        e.reason.clone(),
                    ))
                    .or_default() += count - before;
                self.seen.insert(id.clone(), count);
            }
            alive.insert(id);
        }
        // Forget expired events so this map stays as small as the cluster's event list.
        self.seen.retain(|id, _| alive.contains(id));
    }
}

fn seconds(t: Timestamp) -> f64 {
    t.as_millisecond() as f64 / 1000.0
}

/// Writes declared families to a sink, counts samples per family for `backupscope_series`,
/// and drops disabled families. Samples are built only through a declaration
/// ([`Declared::labels`]), so a family cannot emit a label it did not declare.
struct Counting<'s, 'p, S: MetricSink> {
    sink: &'s mut S,
    disabled: &'s HashSet<String>,
    skipping: bool,
    series: Vec<(&'static str, u64)>,
    /// The previous rendering to copy unchanged units from, for a text sink.
    reuse: Option<Reuse<'p>>,
}

impl<'s, 'p, S: MetricSink> Counting<'s, 'p, S> {
    fn new(sink: &'s mut S, disabled: &'s HashSet<String>, reuse: Option<Reuse<'p>>) -> Self {
        // Units are copied as bytes, so only into a sink that writes bytes.
        let reuse = reuse.filter(|_| sink.written().is_some());
        Counting {
            sink,
            disabled,
            skipping: false,
            series: Vec::new(),
            reuse,
        }
    }

    /// Copies the reused bytes still queued: anything written next must come after them.
    fn flush(&mut self) {
        if let Some((bytes, samples)) = self.reuse.as_mut().and_then(Reuse::flush) {
            self.sink.copy(bytes, samples);
        }
    }

    fn family<const N: usize>(&mut self, family: &Declared<N>) {
        self.end_family();
        self.flush();
        self.skipping = self.disabled.contains(family.name());
        if !self.skipping {
            self.sink.family(&family.family);
            self.series.push((family.name(), 0));
            if let Some(reuse) = &mut self.reuse {
                reuse.family(family.name());
            }
        }
    }

    /// Stamps the family just started as a whole (its inputs' revision and the view): when
    /// the previous rendering's stamp is the same, the family is copied and this returns
    /// true, and the caller writes none of its units.
    fn whole_family(&mut self, stamp: Stamp) -> bool {
        if self.skipping {
            return true;
        }
        self.flush();
        let written = self.sink.written().unwrap_or_default();
        let Some((bytes, samples)) = self
            .reuse
            .as_mut()
            .and_then(|r| r.whole_family(stamp, written))
        else {
            return false;
        };
        self.sink.copy(bytes, samples);
        if let Some(last) = self.series.last_mut() {
            last.1 += samples;
        }
        true
    }

    /// Ends the current family: a spliced one keeps the previous units after the last
    /// changed one.
    fn end_family(&mut self) {
        self.keep_before(None);
    }

    /// Keeps the previous units before `key` in a spliced family (see [`Reuse::keep_before`]).
    fn keep_before(&mut self, key: Option<Key>) {
        let Some(reuse) = self.reuse.as_mut() else {
            return;
        };
        let written = self.sink.written().unwrap_or_default();
        let (copy, samples) = reuse.keep_before(key, written);
        self.kept(copy, samples);
    }

    fn kept(&mut self, copy: Option<(&[u8], u64)>, samples: u64) {
        if let Some((bytes, n)) = copy {
            self.sink.copy(bytes, n);
        }
        if let Some(last) = self.series.last_mut() {
            last.1 += samples;
        }
    }

    /// The stamp the previous rendering gave the family just started, when there is one to
    /// reuse.
    fn previous_stamp(&self) -> Option<Stamp> {
        self.reuse.as_ref().and_then(Reuse::previous_stamp)
    }

    /// Splices the family just started into its previous rendering (see [`Reuse::splice`]):
    /// the caller then calls [`Self::unit`] for each changed unit that is still there and
    /// [`Self::gone`] for each that went away, in key order. False when it cannot.
    fn splice(&mut self) -> bool {
        !self.skipping && self.reuse.as_mut().is_some_and(Reuse::splice)
    }

    /// In a spliced family, a unit that went away since the previous rendering.
    fn gone(&mut self, key: Key) {
        let Some(reuse) = self.reuse.as_mut() else {
            return;
        };
        let written = self.sink.written().unwrap_or_default();
        let (copy, samples) = reuse.drop_unit(key, written);
        self.kept(copy, samples);
    }

    /// The samples `render` writes, as one unit: when the previous rendering has the same
    /// key with the same stamp, its bytes are copied and `render` is not called. Only
    /// [`Self::sample`] and [`Self::states`] may write inside `render`.
    fn unit(&mut self, key: Key, stamp: Stamp, render: impl FnOnce(&mut Self)) {
        if self.skipping {
            return;
        }
        self.keep_before(Some(key));
        let Some(reuse) = self.reuse.as_mut() else {
            return render(self);
        };
        let written = self.sink.written().unwrap_or_default();
        let start = written + reuse.pending_len();
        if let Some((from, to, samples, stored)) = reuse.find(key, &stamp) {
            if let Some((bytes, n)) = reuse.queue(from, to, samples) {
                self.sink.copy(bytes, n);
            }
            if let Some(last) = self.series.last_mut() {
                last.1 += samples;
            }
            reuse.push(stored, stamp, start, start + (to - from), samples);
            return;
        }
        if let Some((bytes, n)) = reuse.flush() {
            self.sink.copy(bytes, n);
        }
        // Rendered again (the rare case): `render` writes through `self`, without the reuse.
        let mut reuse = self.reuse.take();
        let before = self.series.last().map_or(0, |s| s.1);
        render(self);
        let end = self.sink.written().unwrap_or_default();
        let samples = self.series.last().map_or(0, |s| s.1) - before;
        if let Some(reuse) = &mut reuse {
            reuse.rendered += 1;
            reuse.push(key.to_stored(), stamp, start, end, samples);
        }
        self.reuse = reuse;
    }

    fn sample<const N: usize>(&mut self, family: &Declared<N>, values: [&str; N], value: f64) {
        if self.skipping {
            return;
        }
        self.flush();
        debug_assert_eq!(
            self.series.last().map(|s| s.0),
            Some(family.name()),
            "sample outside its family"
        );
        self.sink.sample(&family.labels(values), value);
        if let Some(last) = self.series.last_mut() {
            last.1 += 1;
        }
    }

    /// One series per state of a StateSet-shaped family, the current one 1.
    fn states<const N: usize>(
        &mut self,
        family: &Declared<N>,
        mut values: [&str; N],
        states: &[&'static str],
        current: &str,
    ) {
        for state in states {
            values[N - 1] = state;
            self.sample(family, values, if *state == current { 1.0 } else { 0.0 });
        }
    }
}

fn flag(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

impl Collector {
    pub fn new(options: CollectOptions) -> Self {
        Collector {
            options,
            ..Default::default()
        }
    }

    /// Also exports the vault probe and scan families from `board`.
    pub fn with_vault_board(mut self, board: Option<std::sync::Arc<crate::vault::Board>>) -> Self {
        self.vaults = board;
        self
    }

    /// The board of serve's vault probes, when it runs them.
    pub fn vault_board(&self) -> Option<&std::sync::Arc<crate::vault::Board>> {
        self.vaults.as_ref()
    }

    /// Writes every family: the backup center's, then backupscope's own. `health` is the live
    /// source's; `None` for a snapshot, which reports one `snapshot` source that is up.
    pub fn collect<S: MetricSink>(
        &self,
        center: &BackupCenter,
        health: Option<&SourceHealth>,
        sink: &mut S,
    ) {
        let started = std::time::Instant::now();
        let series = self.collect_center(center, sink);
        self.collect_own(center, health, &series, sink);
        self.record_duration(started.elapsed());
    }

    /// The backup center's families. They depend only on the inventory (never on the clock),
    /// so a caller may keep the output for as long as the inventory revision is unchanged.
    /// Returns the series count per family, for `backupscope_series`.
    pub fn collect_center<S: MetricSink>(
        &self,
        center: &BackupCenter,
        sink: &mut S,
    ) -> Vec<(&'static str, u64)> {
        let mut out = Counting::new(sink, &self.options.disabled, None);
        self.center_families(center, &mut out);
        out.series
    }

    /// [`Self::collect_center`] into a text sink, copying every unit (a vault, a schedule, a
    /// flagged task...) that did not change since `previous` was rendered into `previous_body`
    /// in the same format. Returns the series per family and the units of this rendering.
    pub fn collect_center_reusing<S: MetricSink>(
        &self,
        center: &BackupCenter,
        sink: &mut S,
        previous: Units,
        previous_body: &[u8],
    ) -> (Vec<(&'static str, u64)>, Units, Reused) {
        let reuse = Reuse::new(previous, previous_body);
        let mut out = Counting::new(sink, &self.options.disabled, Some(reuse));
        self.center_families(center, &mut out);
        out.end_family();
        out.flush();
        let series = std::mem::take(&mut out.series);
        match out.reuse.take() {
            Some(reuse) => {
                let reused = Reused {
                    copied: reuse.reused,
                    rendered: reuse.rendered,
                    spliced: reuse.spliced,
                };
                (series, reuse.finish(), reused)
            }
            None => (series, Units::default(), Reused::default()),
        }
    }

    fn center_families<S: MetricSink>(&self, center: &BackupCenter, out: &mut Counting<S>) {
        vaults(center, out);
        tasks(center, out);
        schedules(center, out);
        restores(center, out);
        components(center, out);
        self.events(center, out);
    }

    /// backupscope's own families, always fresh; `center_series` from [`Self::collect_center`].
    pub fn collect_own<S: MetricSink>(
        &self,
        center: &BackupCenter,
        health: Option<&SourceHealth>,
        center_series: &[(&'static str, u64)],
        sink: &mut S,
    ) {
        let mut out = Counting::new(sink, &self.options.disabled, None);
        out.series = center_series.to_vec();
        self.own(center, health, &mut out);
        for (family, rows) in crate::alerting::forward::stats() {
            out.family(family);
            for (alertmanager, value) in rows {
                out.sample(family, [alertmanager.as_str()], value);
            }
        }
        if let Some(board) = &self.vaults {
            vault_probes(board, &mut out);
        }
        doctor_findings(&self.doctor, center, self.vaults.as_deref(), &mut out);
        let series = std::mem::take(&mut out.series);
        out.family(&f::SERIES);
        for (name, n) in &series {
            out.sample(&f::SERIES, [name], *n as f64);
        }
    }

    /// Remembers how long a whole collection took (`backupscope_last_scrape_duration_seconds`).
    pub fn record_duration(&self, took: std::time::Duration) {
        self.last_duration_nanos
            .store(took.as_nanos() as u64, Ordering::Relaxed);
    }

    fn events<S: MetricSink>(&self, center: &BackupCenter, out: &mut Counting<S>) {
        out.family(&f::WARNING_EVENTS);
        let Ok(mut totals) = self.events.lock() else {
            return;
        };
        totals.observe(center.events());
        for ((ns, kind, reason), n) in &totals.totals {
            out.sample(&f::WARNING_EVENTS, [ns, kind, reason], *n as f64);
        }
    }

    fn own<S: MetricSink>(
        &self,
        center: &BackupCenter,
        health: Option<&SourceHealth>,
        out: &mut Counting<S>,
    ) {
        out.family(&f::BUILD_INFO);
        out.sample(&f::BUILD_INFO, [env!("CARGO_PKG_VERSION")], 1.0);

        let states = health.map(|h| h.snapshot()).unwrap_or_default();
        out.family(&f::SOURCE_UP);
        if health.is_none() {
            out.sample(&f::SOURCE_UP, ["snapshot"], 1.0);
        }
        for (source, s) in &states {
            out.sample(&f::SOURCE_UP, [source], if s.up { 1.0 } else { 0.0 });
        }
        out.family(&f::OBJECTS);
        for (resource, n) in center.inventory.object_counts() {
            out.sample(&f::OBJECTS, [resource], n as f64);
        }
        out.family(&f::WATCH_EVENTS);
        // Discovery is a source that can be down, but nothing is watched there.
        for (source, s) in states.iter().filter(|(source, _)| *source != DISCOVERY) {
            out.sample(&f::WATCH_EVENTS, [source], s.events as f64);
        }
        out.family(&f::LAST_SCRAPE_DURATION);
        let nanos = self.last_duration_nanos.load(Ordering::Relaxed);
        out.sample(&f::LAST_SCRAPE_DURATION, [], nanos as f64 / 1e9);
    }
}

/// The probe and scan families. They change without the inventory, so they are collected
/// with backupscope's own (always fresh) families, reading the board under a short lock.
fn vault_probes<S: MetricSink>(board: &crate::vault::Board, out: &mut Counting<S>) {
    let state = board.read();
    out.family(&f::PROBE_SUCCESS);
    for p in state.probes.values() {
        let v = [p.namespace.as_str(), p.backup_location.as_str()];
        out.sample(&f::PROBE_SUCCESS, v, if p.success { 1.0 } else { 0.0 });
    }
    out.family(&f::PROBE_DURATION);
    for p in state.probes.values() {
        let v = [p.namespace.as_str(), p.backup_location.as_str()];
        out.sample(&f::PROBE_DURATION, v, p.duration_seconds);
    }
    out.family(&f::PROBE_ERROR_INFO);
    for p in state.probes.values() {
        if let Some(r) = p.reason {
            let v = [&p.namespace, &p.backup_location, r.as_str(), &p.code];
            out.sample(&f::PROBE_ERROR_INFO, v, 1.0);
        }
    }
    out.family(&f::SCAN_BACKUPS);
    for s in state.scans.values().filter(|s| s.error.is_none()) {
        let v = [s.namespace.as_str(), s.backup_location.as_str()];
        out.sample(&f::SCAN_BACKUPS, v, s.backups.len() as f64);
    }
    out.family(&f::SCAN_FINDINGS);
    for s in state.scans.values().filter(|s| s.error.is_none()) {
        for (kind, n) in &s.counts {
            out.sample(
                &f::SCAN_FINDINGS,
                [&s.namespace, &s.backup_location, kind],
                *n as f64,
            );
        }
    }
    out.family(&f::SCAN_SUCCESS);
    for s in state.scans.values() {
        let v = [s.namespace.as_str(), s.backup_location.as_str()];
        out.sample(
            &f::SCAN_SUCCESS,
            v,
            if s.error.is_none() { 1.0 } else { 0.0 },
        );
    }
    out.family(&f::PROBE_ROUND_DURATION);
    if let Some(r) = state.last_round {
        out.sample(&f::PROBE_ROUND_DURATION, [], r.seconds);
    }
}

/// The latest probe of every vault, copied under the board's short lock.
pub fn probes_of(board: &crate::vault::Board) -> Vec<crate::vault::ProbeResult> {
    board.read().probes.values().cloned().collect()
}

/// `backupcenter_doctor_findings`: the doctor depends on the clock (stuck tasks, RPO), so it
/// runs with backupscope's own families, not in the center output cached per revision. Its
/// thresholds are minutes to hours and alerts wait longer than that, so counts are reused for
/// a minute whatever changed meanwhile; on a busy cluster the revision changes every scrape.
fn doctor_findings<S: MetricSink>(
    cache: &Mutex<Option<DoctorCounts>>,
    center: &BackupCenter,
    board: Option<&crate::vault::Board>,
    out: &mut Counting<S>,
) {
    const REUSE_SECONDS: i64 = 60;
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let probe_round = board
        .and_then(|b| b.read().last_round)
        .map_or(0, |r| r.number);
    let fresh = cache.as_ref().is_some_and(|c| {
        (center.now.as_second() - c.at.as_second()).abs() < REUSE_SECONDS
            && c.probe_round == probe_round
    });
    if !fresh {
        let mut counts: BTreeMap<(String, &'static str, &'static str), u64> = BTreeMap::new();
        let facts = crate::report::doctor::ClusterFacts::default()
            .with_probes(board.map(probes_of).unwrap_or_default());
        for finding in crate::doctor::diagnose(center, &facts) {
            let key = (
                finding.object.namespace,
                finding.rule,
                finding.severity.as_str(),
            );
            *counts.entry(key).or_default() += 1;
        }
        *cache = Some(DoctorCounts {
            at: center.now,
            probe_round,
            counts: counts.into_iter().collect(),
        });
    }
    out.family(&f::DOCTOR_FINDINGS);
    for ((ns, rule, severity), n) in cache.iter().flat_map(|c| &c.counts) {
        out.sample(&f::DOCTOR_FINDINGS, [ns, rule, severity], *n as f64);
    }
}

/// The unit key of a record listed engine by engine, then by namespace and name.
fn by_engine<'a>(
    engine: Engine,
    namespace: impl Into<Text<'a>>,
    name: impl Into<Text<'a>>,
) -> Key<'a> {
    Key {
        major: engine as u8,
        first: namespace.into(),
        second: name.into(),
        minor: 0,
    }
}

/// The unit key of a record listed by namespace and name, then engine.
fn by_name<'a>(
    namespace: impl Into<Text<'a>>,
    name: impl Into<Text<'a>>,
    engine: Engine,
) -> Key<'a> {
    Key {
        major: 0,
        first: namespace.into(),
        second: name.into(),
        minor: engine as u8,
    }
}

/// The unit key of what a family lists once per (namespace, name), whatever the engine.
fn by_pair<'a>(namespace: &'a str, name: &'a str) -> Key<'a> {
    Key {
        major: 0,
        first: namespace.into(),
        second: name.into(),
        minor: 0,
    }
}

/// A flagged task's unit key, as the task index orders them.
fn flagged_key(key: &FlaggedId) -> Key<'_> {
    by_engine(key.0, &key.1, &key.2)
}

fn vault_key(v: &crate::model::Vault) -> Key<'_> {
    by_engine(v.engine, &v.namespace, &v.name)
}

fn schedule_key(s: &crate::model::Schedule) -> Key<'_> {
    by_name(&s.namespace, &s.name, s.engine)
}

/// A stamp of up to three numbers.
fn stamp(parts: &[u64]) -> Stamp {
    debug_assert!(parts.len() <= 3, "a stamp holds three numbers");
    let mut out = Stamp::default();
    for (slot, part) in out.iter_mut().zip(parts) {
        *slot = *part;
    }
    out
}

/// A stamp of up to six numbers below 2^32, two to a slot; [`NEVER`] when one is larger (a
/// vault with four billion tasks is rendered every time rather than packed wrong).
fn packed(parts: &[u64]) -> Stamp {
    debug_assert!(parts.len() <= 6, "a packed stamp holds six numbers");
    if parts.iter().any(|p| *p >= u64::from(u32::MAX)) {
        return NEVER;
    }
    let mut out = Stamp::default();
    for (i, part) in parts.iter().enumerate() {
        out[i / 2] |= part << (32 * (i % 2));
    }
    out
}

/// A timestamp as a stamp part (its bits: a stamp only compares).
fn time_part(t: Timestamp) -> u64 {
    t.as_millisecond() as u64
}

fn vaults<S: MetricSink>(center: &BackupCenter, out: &mut Counting<S>) {
    // A vault's series are its record's fields: the revision it changed at stamps them; the
    // families as a whole change only when a vault or the view does.
    let whole = stamp(&[center.inventory.vaults_changed_at(), center.view_stamp()]);
    let cell = std::cell::OnceCell::new();
    let vaults = || -> &Vec<(&crate::model::Vault, u64)> {
        cell.get_or_init(|| center.vaults_changed().collect())
    };
    out.family(&f::BACKUPLOCATION_INFO);
    if !out.whole_family(whole) {
        for (v, changed) in vaults() {
            out.unit(vault_key(v), stamp(&[*changed]), |out| {
                out.sample(
                    &f::BACKUPLOCATION_INFO,
                    [
                        &v.namespace,
                        &v.name,
                        &v.provider,
                        &v.bucket,
                        &v.prefix,
                        &v.region,
                        &v.network_policy,
                        v.engine.as_str(),
                    ],
                    1.0,
                );
            });
        }
    }
    out.family(&f::BACKUPLOCATION_PHASE);
    if !out.whole_family(whole) {
        for (v, changed) in vaults() {
            out.unit(vault_key(v), stamp(&[*changed]), |out| {
                out.states(
                    &f::BACKUPLOCATION_PHASE,
                    [&v.namespace, &v.name, ""],
                    VaultPhase::NAMES,
                    v.phase.as_str(),
                );
            });
        }
    }
    out.family(&f::BACKUPLOCATION_LAST_VALIDATION);
    if !out.whole_family(whole) {
        for (v, _) in vaults() {
            if let Some(t) = v.last_validation {
                let key = vault_key(v);
                out.unit(key, stamp(&[time_part(t)]), |out| {
                    out.sample(
                        &f::BACKUPLOCATION_LAST_VALIDATION,
                        [&v.namespace, &v.name],
                        seconds(t),
                    );
                });
            }
        }
    }
}

// A vault's counts unit is stamped with whether the vault exists and its count per outcome.
const _: () = assert!(Outcome::ALL.len() < 6);

/// The revision the previous rendering of the family just started was made at, when of its
/// whole stamp only the last part (a change log's revision) moved since: then the family is
/// spliced with the changes that log names after it.
fn log_revision<S: MetricSink>(out: &Counting<S>, whole: Stamp) -> Option<u64> {
    out.previous_stamp()
        .filter(|previous| previous[..2] == whole[..2])
        .map(|previous| previous[2])
}

/// Every vault in view (a vault without tasks counts 0) and every vault tasks name, in
/// order, with whether the vault exists and its task counts: the sorted vaults merged with
/// the sorted counts, nothing looked up.
fn vault_counts<'a>(
    center: &'a BackupCenter,
) -> impl Iterator<Item = ((&'a str, &'a str), bool, [u64; Outcome::ALL.len()])> {
    let mut vaults = by_name_order(
        || center.vaults(),
        |v| (v.namespace.as_str(), v.name.as_str(), v.engine),
    )
    .map(|v| (v.namespace.as_str(), v.name.as_str()))
    .peekable();
    let mut counts = center.sorted_task_counts().peekable();
    std::iter::from_fn(move || {
        let next_vault = vaults.peek().copied();
        let next_count = counts.peek().map(|(k, _)| *k);
        let key = match (next_vault, next_count) {
            (Some(v), Some(c)) => v.min(c),
            (v, c) => v.or(c)?,
        };
        // Both engines may have a vault of the name.
        let mut exists = false;
        while vaults.next_if_eq(&key).is_some() {
            exists = !key.1.is_empty();
        }
        let by_outcome = counts.next_if(|(k, _)| *k == key).map(|(_, c)| c);
        Some((key, exists, by_outcome.unwrap_or_default()))
    })
}

/// One vault's unit of the count family. The whole input is a few numbers: they are the stamp.
fn vault_counts_unit<S: MetricSink>(
    out: &mut Counting<S>,
    (ns, vault): (&str, &str),
    exists: bool,
    by_outcome: [u64; Outcome::ALL.len()],
) {
    let mut parts = [0; 6];
    parts[0] = u64::from(exists);
    parts[1..=Outcome::ALL.len()].copy_from_slice(&by_outcome);
    out.unit(by_pair(ns, vault), packed(&parts), |out| {
        for outcome in Outcome::ALL {
            out.sample(
                &f::BACKUPS,
                [ns, vault, flag(exists), outcome.as_str()],
                by_outcome[*outcome as usize] as f64,
            );
        }
    });
}

fn tasks<S: MetricSink>(center: &BackupCenter, out: &mut Counting<S>) {
    // Counts come from the inventory's index; per-task detail only for the flagged few. A
    // vault's counts unit reads its counts (logged per change) and whether the vault exists;
    // the family as a whole changes when counts, a vault or the view do.
    let inv = center.inventory;
    let index = &inv.task_index;
    let whole = stamp(&[
        inv.vaults_changed_at(),
        center.view_stamp(),
        index.counts_changed_at(),
    ]);
    out.family(&f::BACKUPS);
    if !out.whole_family(whole) {
        match log_revision(out, whole).and_then(|r| index.counts_changed_since(r)) {
            Some(pairs) if out.splice() => {
                for (ns, vault) in pairs {
                    let seen = center.vault_in(ns, vault).is_some();
                    match center.task_counts_of(ns, vault) {
                        counts if seen || counts.is_some() => vault_counts_unit(
                            out,
                            (ns, vault),
                            seen && !vault.is_empty(),
                            counts.unwrap_or_default(),
                        ),
                        _ => out.gone(by_pair(ns, vault)),
                    }
                }
            }
            _ => {
                for (pair, exists, by_outcome) in vault_counts(center) {
                    vault_counts_unit(out, pair, exists, by_outcome);
                }
            }
        }
    }
    // A flagged task's series read the task, its twin, its events and PodVolumeBackups (the
    // index stamps when any of those changed) and whether its vault exists; the families as a
    // whole change when a flagged task, a vault or the view does.
    let whole = stamp(&[
        inv.vaults_changed_at(),
        center.view_stamp(),
        inv.task_index.flagged_changed_at(),
    ]);
    let mut since = None;
    flagged_family(
        center,
        out,
        &f::BACKUP_FAILED_INFO,
        whole,
        &mut since,
        true,
        |out, v| {
            let exists = center.named_vault(&v.key.1, &v.entry.vault).is_some();
            out.unit(
                flagged_key(v.key),
                stamp(&[v.entry.changed, u64::from(exists)]),
                |out| {
                    let Some(t) = v.task(center) else { return };
                    let (reason, data_type) = center.detail(&center.view(t));
                    out.sample(
                        &f::BACKUP_FAILED_INFO,
                        [
                            &t.namespace,
                            &t.name,
                            &t.vault,
                            flag(exists),
                            t.backup_type.as_str(),
                            data_type.as_str(),
                            &t.schedule,
                            t.phase.as_str(),
                            reason.as_str(),
                            t.engine.as_str(),
                        ],
                        1.0,
                    );
                },
            );
        },
    );
    flagged_family(
        center,
        out,
        &f::BACKUP_COMPLETION,
        whole,
        &mut since,
        true,
        |out, v| {
            out.unit(flagged_key(v.key), stamp(&[v.entry.changed]), |out| {
                let Some(t) = v.task(center) else { return };
                if let Some(done) = t.completed {
                    out.sample(
                        &f::BACKUP_COMPLETION,
                        [&t.namespace, &t.name, &t.vault],
                        seconds(done),
                    );
                }
            });
        },
    );
    flagged_family(
        center,
        out,
        &f::BACKUP_START,
        whole,
        &mut since,
        false,
        |out, v| {
            out.unit(flagged_key(v.key), stamp(&[v.entry.changed]), |out| {
                let Some(t) = v.task(center) else { return };
                if let Some(since) = t.started.or(t.created) {
                    out.sample(
                        &f::BACKUP_START,
                        [
                            &t.namespace,
                            &t.name,
                            &t.vault,
                            t.phase.as_str(),
                            &t.schedule,
                        ],
                        seconds(since),
                    );
                }
            });
        },
    );
}

/// A flagged task as its families visit it: the index entry, and the task once looked up (a
/// failed task's two families look it up once).
struct Visit<'a> {
    key: &'a FlaggedId,
    entry: &'a Flagged,
    task: std::cell::OnceCell<Option<&'a BackupTask>>,
}

impl<'a> Visit<'a> {
    fn new(key: &'a FlaggedId, entry: &'a Flagged) -> Self {
        Visit {
            key,
            entry,
            task: std::cell::OnceCell::new(),
        }
    }

    fn task(&self, center: &BackupCenter<'a>) -> Option<&'a BackupTask> {
        *self.task.get_or_init(|| {
            let (engine, ns, name) = self.key;
            center.inventory.backup_shared(*engine, ns, name)
        })
    }
}

/// The flagged tasks changed since a revision, each with its entry while it is flagged and in
/// view (`None`: too many changed to tell), read once for the families of one rendering.
type ChangedSince<'a> = Option<(u64, Option<Vec<(&'a FlaggedId, Option<Visit<'a>>)>>)>;

/// A family with one unit per failed (else unfinished) flagged task, stamped as a whole with
/// `whole` (the vaults', the view's and the flagged tasks' revisions, in that order). When
/// only flagged tasks changed since the previous rendering, `unit` is called for just those
/// (the log of the task index says which) and the rest is spliced in from that rendering, so
/// a change costs what it changed, not a walk of every flagged task.
///
/// `since` keeps the changes read for one revision: the three families of a rendering ask
/// for the same.
fn flagged_family<'a, S: MetricSink, const N: usize>(
    center: &BackupCenter<'a>,
    out: &mut Counting<S>,
    family: &Declared<N>,
    whole: Stamp,
    since: &mut ChangedSince<'a>,
    failed: bool,
    mut unit: impl FnMut(&mut Counting<S>, &Visit<'a>),
) {
    out.family(family);
    if out.whole_family(whole) {
        return;
    }
    let changed = match log_revision(out, whole) {
        Some(revision) => {
            if since.as_ref().is_none_or(|(r, _)| *r != revision) {
                let index = &center.inventory.task_index;
                let visits = index.flagged_changed_since(revision).map(|keys| {
                    keys.into_iter()
                        .map(|key| (key, center.flagged_entry(key).map(|e| Visit::new(key, e))))
                        .collect()
                });
                *since = Some((revision, visits));
            }
            since.as_ref().and_then(|(_, visits)| visits.as_ref())
        }
        None => None,
    };
    match changed {
        Some(visits) if out.splice() => {
            for (key, visit) in visits {
                match visit.as_ref().filter(|v| v.entry.failed == failed) {
                    Some(visit) => unit(out, visit),
                    None => out.gone(flagged_key(key)),
                }
            }
        }
        _ => {
            for (key, entry) in center.flagged().filter(|(_, e)| e.failed == failed) {
                unit(out, &Visit::new(key, entry));
            }
        }
    }
}

fn schedules<S: MetricSink>(center: &BackupCenter, out: &mut Counting<S>) {
    // Sorted only when a family is rendered, not copied whole.
    let cell = std::cell::OnceCell::new();
    let schedules = || -> &Vec<(&crate::model::Schedule, u64)> {
        cell.get_or_init(|| {
            by_name_order(
                || center.schedules_changed(),
                |(s, _)| (s.namespace.as_str(), s.name.as_str(), s.engine),
            )
            .collect()
        })
    };
    // A schedule's own series are its record's fields (the phase is decided from them
    // alone): the revision it changed at stamps them; the families as a whole change only
    // when a schedule or the view does.
    let whole = stamp(&[center.inventory.schedules_changed_at(), center.view_stamp()]);
    out.family(&f::SCHEDULE_INFO);
    if !out.whole_family(whole) {
        for (s, changed) in schedules() {
            out.unit(schedule_key(s), stamp(&[*changed]), |out| {
                out.sample(
                    &f::SCHEDULE_INFO,
                    [
                        &s.namespace,
                        &s.name,
                        &s.vault,
                        &s.cron,
                        flag(s.paused),
                        s.engine.as_str(),
                    ],
                    1.0,
                );
            });
        }
    }
    out.family(&f::SCHEDULE_PHASE);
    if !out.whole_family(whole) {
        for (s, changed) in schedules() {
            out.unit(schedule_key(s), stamp(&[*changed]), |out| {
                out.states(
                    &f::SCHEDULE_PHASE,
                    [&s.namespace, &s.name, ""],
                    SchedulePhase::NAMES,
                    center.schedule_phase(s).as_str(),
                );
            });
        }
    }
    out.family(&f::SCHEDULE_INTERVAL);
    if !out.whole_family(whole) {
        for (s, changed) in schedules()
            .iter()
            .filter(|(s, _)| center.schedule_can_run(s))
        {
            if let Some(i) = s.interval_seconds {
                out.unit(schedule_key(s), stamp(&[*changed]), |out| {
                    out.sample(&f::SCHEDULE_INTERVAL, [&s.namespace, &s.name], i);
                });
            }
        }
    }
    // The runs' series are one time or one outcome each: those are the stamps. The families
    // as a whole change when what they show of a schedule's runs (logged per change), a
    // schedule (one that failed validation has no RPO: it is not meant to run) or the view
    // does.
    let whole = stamp(&[
        center.inventory.schedules_changed_at(),
        center.view_stamp(),
        center.inventory.task_index.runs_changed_at(),
    ]);
    runs_family(
        center,
        out,
        &f::SCHEDULE_LAST_SUCCESS,
        whole,
        RunIndex::last_success_time,
        |t| stamp(&[time_part(t)]),
        |out, ns, name, t| out.sample(&f::SCHEDULE_LAST_SUCCESS, [ns, name], seconds(t)),
    );
    runs_family(
        center,
        out,
        &f::SCHEDULE_LAST_BACKUP_PHASE,
        whole,
        |r| r.last_outcome,
        |outcome| stamp(&[outcome as u64]),
        |out, ns, name, outcome| {
            out.states(
                &f::SCHEDULE_LAST_BACKUP_PHASE,
                [ns, name, ""],
                Outcome::NAMES,
                outcome.as_str(),
            );
        },
    );
}

/// A family with one unit per schedule (and manual pseudo-schedule "" per namespace) whose
/// runs show `shown`, stamped as a whole with `whole` (the schedules', the view's and the runs
/// log's revisions). When only runs changed since the previous rendering, just the schedules
/// the runs log names are visited and the rest is spliced in from that rendering.
fn runs_family<S: MetricSink, const N: usize, V: Copy>(
    center: &BackupCenter,
    out: &mut Counting<S>,
    family: &Declared<N>,
    whole: Stamp,
    shown: impl Fn(&RunIndex) -> Option<V>,
    stamp_of: impl Fn(V) -> Stamp,
    render: impl Fn(&mut Counting<S>, &str, &str, V),
) {
    out.family(family);
    if out.whole_family(whole) {
        return;
    }
    let unit = |out: &mut Counting<S>, (ns, name, engine): &RunId, v: V| {
        out.unit(by_name(ns, name, *engine), stamp_of(v), |out| {
            render(out, ns, name, v);
        });
    };
    let index = &center.inventory.task_index;
    match log_revision(out, whole).and_then(|r| index.runs_changed_since(r)) {
        Some(ids) if out.splice() => {
            let schedules = &center.inventory.schedules;
            for id in ids {
                let (ns, name, engine) = id;
                let can_run = || {
                    schedules
                        .get_named(*engine, ns, name)
                        .is_none_or(|s| center.schedule_can_run(s))
                };
                match center.run_of(id).filter(|_| can_run()).and_then(&shown) {
                    Some(v) => unit(out, id, v),
                    None => out.gone(by_name(ns, name, *engine)),
                }
            }
        }
        _ => {
            let cannot_run: HashSet<(Engine, &str, &str)> = center
                .schedules()
                .filter(|s| !center.schedule_can_run(s))
                .map(|s| (s.engine, s.namespace.as_str(), s.name.as_str()))
                .collect();
            let runs = center.run_index().filter(|((ns, name, engine), _)| {
                cannot_run.is_empty()
                    || !cannot_run.contains(&(*engine, ns.as_str(), name.as_str()))
            });
            for (id, r) in runs {
                if let Some(v) = shown(r) {
                    unit(out, id, v);
                }
            }
        }
    }
}

fn restores<S: MetricSink>(center: &BackupCenter, out: &mut Counting<S>) {
    let mut counts: BTreeMap<&str, [u64; Outcome::ALL.len()]> = BTreeMap::new();
    let mut failed = Vec::new();
    let mut active = Vec::new();
    for r in center.restores() {
        counts.entry(r.restore.namespace.as_str()).or_default()
            [r.restore.phase.outcome() as usize] += 1;
        if r.restore.phase.is_failure() {
            failed.push(r);
        } else if r.restore.phase.is_active() {
            active.push(r);
        }
    }
    out.family(&f::RESTORES);
    for (ns, by_outcome) in &counts {
        for outcome in Outcome::ALL {
            out.sample(
                &f::RESTORES,
                [ns, outcome.as_str()],
                by_outcome[*outcome as usize] as f64,
            );
        }
    }
    out.family(&f::RESTORE_FAILED_INFO);
    for r in &failed {
        let x = r.restore;
        out.sample(
            &f::RESTORE_FAILED_INFO,
            [
                &x.namespace,
                &x.name,
                &x.backup,
                x.phase.as_str(),
                center.restore_reason(r).as_str(),
            ],
            1.0,
        );
    }
    out.family(&f::RESTORE_START);
    for r in &active {
        let x = r.restore;
        if let Some(since) = x.started.or(x.created) {
            out.sample(
                &f::RESTORE_START,
                [&x.namespace, &x.name, &x.backup, x.phase.as_str()],
                seconds(since),
            );
        }
    }
}

fn components<S: MetricSink>(center: &BackupCenter, out: &mut Counting<S>) {
    let views = center.components();
    out.family(&f::COMPONENT_STATUS);
    for c in &views {
        out.states(
            &f::COMPONENT_STATUS,
            [&c.namespace, c.spec.name, ""],
            ComponentStatus::KNOWN,
            c.status.as_str(),
        );
    }
    out.family(&f::COMPONENT_CREATED);
    for c in &views {
        if let Some(t) = c.workload().and_then(|w| w.created) {
            out.sample(
                &f::COMPONENT_CREATED,
                [&c.namespace, c.spec.name],
                seconds(t),
            );
        }
    }
    out.family(&f::COMPONENT_REPLICAS);
    for c in &views {
        let (desired, ready) = if c.workloads.is_empty() {
            (0, 0)
        } else {
            (c.pods_desired(), c.pods_ready())
        };
        for (state, n) in [("desired", desired), ("ready", ready)] {
            out.sample(
                &f::COMPONENT_REPLICAS,
                [&c.namespace, c.spec.name, state],
                n as f64,
            );
        }
    }
    out.family(&f::COMPONENT_POD_INFO);
    for c in &views {
        for p in &c.pods {
            out.sample(
                &f::COMPONENT_POD_INFO,
                [
                    &p.namespace,
                    c.spec.name,
                    &p.name,
                    &p.node,
                    PodPhase::parse(&p.phase).as_str(),
                ],
                1.0,
            );
        }
    }
    out.family(&f::COMPONENT_POD_RESTARTS);
    for c in &views {
        for p in &c.pods {
            for k in &p.containers {
                out.sample(
                    &f::COMPONENT_POD_RESTARTS,
                    [&p.namespace, c.spec.name, &p.name, &k.name],
                    k.restarts as f64,
                );
            }
        }
    }
    out.family(&f::COMPONENT_POD_LAST_TERMINATION);
    for c in &views {
        for p in &c.pods {
            for k in &p.containers {
                let Some(t) = &k.last_termination else {
                    continue;
                };
                let code = t.exit_code.to_string();
                out.sample(
                    &f::COMPONENT_POD_LAST_TERMINATION,
                    [
                        &p.namespace,
                        c.spec.name,
                        &p.name,
                        &k.name,
                        &t.reason,
                        &code,
                    ],
                    1.0,
                );
            }
        }
    }
    for (family, pick) in [
        (
            &f::COMPONENT_REQUESTS,
            (|c: &ContainerSpec| c.requests) as fn(&ContainerSpec) -> Resources,
        ),
        (&f::COMPONENT_LIMITS, |c: &ContainerSpec| c.limits),
    ] {
        out.family(family);
        for c in &views {
            let Some(w) = c.workload() else { continue };
            for k in &w.containers {
                let r = pick(k);
                for (resource, unit, value) in
                    [("cpu", "core", r.cpu), ("memory", "byte", r.memory)]
                {
                    if let Some(v) = value {
                        out.sample(
                            family,
                            [&c.namespace, c.spec.name, &k.name, resource, unit],
                            v,
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_stamps_tell_every_count_apart_or_match_nothing() {
        let a = packed(&[1, 0, 5, 0, 0, 7]);
        assert_eq!(a, packed(&[1, 0, 5, 0, 0, 7]));
        // Each number has its own half of a slot: no two inputs share a stamp.
        for (i, j) in [(0, 1), (2, 3), (4, 5), (1, 2)] {
            let mut x = [0; 6];
            x[i] = 1;
            let mut y = [0; 6];
            y[j] = 1;
            assert_ne!(packed(&x), packed(&y), "slots {i} and {j}");
        }
        assert_ne!(packed(&[1 << 31, 0]), packed(&[0, 1 << 31]));
        // Too large to pack: a stamp that no rendering reuses.
        assert_eq!(packed(&[0, u64::from(u32::MAX)]), NEVER);
        assert_eq!(packed(&[u64::MAX]), NEVER);
    }
}
