//! Rendering per unit, as kube-state-metrics renders per object: a family's samples are written
//! in units (one vault, one schedule, one flagged task, one vault's counts), each with a key
//! and a stamp that changes whenever anything its samples are made of changes. A scrape after
//! a change renders only the units whose stamp moved and copies the bytes of every other unit
//! from the previous rendering, so its cost follows what changed, not the inventory's size.
//! A family whose changed units the collector can name (the flagged tasks, from the task
//! index's change log) is spliced: only those are visited, and the runs of units between
//! them are copied as they were, without comparing their keys.
//!
//! Stamps are either the inventory revision at which the unit's inputs last changed (unique
//! per change, see [`crate::inventory`]) or the unit's whole input when that is a few numbers
//! (counts, a timestamp): equal key and stamp mean equal bytes, so a copy is never stale.

use crate::model::SharedStr;
use std::cmp::Ordering;
use std::collections::VecDeque;

/// What tells a unit apart within its family, compared in this order: a major tag (the
/// engine, where a family lists engine by engine), two names, a minor tag (the engine, where a
/// family lists by name first). Units come in ascending key order, as the collector's loops
/// already write them; a family written in another order still renders correctly, only
/// without reuse.
#[derive(Debug, Clone)]
pub struct UnitKey {
    major: u8,
    first: SharedStr,
    second: SharedStr,
    minor: u8,
}

/// A key as the collector has it at hand: borrowed, so a unit reused costs no allocation.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    pub major: u8,
    pub first: Text<'a>,
    pub second: Text<'a>,
    pub minor: u8,
}

/// A name in a key: a task's names are shared strings, which the stored key shares too, so
/// most comparisons are a pointer comparison; other names are copied once per change.
#[derive(Debug, Clone, Copy)]
pub enum Text<'a> {
    Shared(&'a SharedStr),
    Plain(&'a str),
}

impl<'a> From<&'a SharedStr> for Text<'a> {
    fn from(s: &'a SharedStr) -> Self {
        Text::Shared(s)
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Self {
        Text::Plain(s)
    }
}

impl<'a> From<&'a String> for Text<'a> {
    fn from(s: &'a String) -> Self {
        Text::Plain(s)
    }
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        match self {
            Text::Shared(s) => s.as_str(),
            Text::Plain(s) => s,
        }
    }

    fn to_stored(self) -> SharedStr {
        match self {
            Text::Shared(s) => s.clone(),
            Text::Plain(s) => s.into(),
        }
    }

    fn cmp_stored(&self, stored: &SharedStr) -> Ordering {
        match self {
            Text::Shared(s) if s.shares_with(stored) => Ordering::Equal,
            _ => self.as_str().cmp(stored.as_str()),
        }
    }
}

impl Key<'_> {
    fn cmp_stored(&self, stored: &UnitKey) -> Ordering {
        self.major
            .cmp(&stored.major)
            .then_with(|| self.first.cmp_stored(&stored.first))
            .then_with(|| self.second.cmp_stored(&stored.second))
            .then_with(|| self.minor.cmp(&stored.minor))
    }

    pub(super) fn to_stored(self) -> UnitKey {
        UnitKey {
            major: self.major,
            first: self.first.to_stored(),
            second: self.second.to_stored(),
            minor: self.minor,
        }
    }
}

/// A unit's inputs, or the revision they last changed at; unused slots stay 0. Three: a
/// family's stamp is three revisions, a vault's counts are packed two to a slot (see
/// `packed` in the collector). Small, as every unit carries one and a splice moves them all.
pub type Stamp = [u64; 3];

/// A stamp equal to no other: a unit carrying it is rendered every time.
pub const NEVER: Stamp = [u64::MAX; 3];

/// One rendered unit: where its bytes are in the rendering and how many samples they hold.
#[derive(Debug)]
struct Unit {
    key: UnitKey,
    stamp: Stamp,
    start: usize,
    end: usize,
    samples: u64,
}

impl Unit {
    /// Places the unit in a new rendering whose bytes from `from` of the previous one are
    /// copied to `at`.
    fn shift(&mut self, from: usize, at: usize) {
        (self.start, self.end) = (self.start - from + at, self.end - from + at);
    }

    fn moved(mut self, from: usize, at: usize) -> Unit {
        self.shift(from, at);
        self
    }
}

/// How many of `units` (in key order) come before `key`. Galloping from the front: changed
/// units are spread over the family, so the next one is usually near, and the units (and
/// their names) probed first lie next to the ones just kept, in cache.
fn before(units: &[Unit], key: Key) -> usize {
    let is_before = |u: &Unit| key.cmp_stored(&u.key) == Ordering::Greater;
    let mut lo = 0;
    let mut step = 1;
    while lo + step <= units.len() && is_before(&units[lo + step - 1]) {
        lo += step;
        step *= 2;
    }
    let hi = (lo + step).min(units.len());
    lo + units[lo..hi].partition_point(is_before)
}

/// The units of one rendering, family by family, with the bytes they point into.
#[derive(Debug, Default)]
pub struct Units {
    families: Vec<FamilyUnits>,
    /// Emptied unit vectors of the rendering before, for the next rendering to write into:
    /// a fresh vector of a few MB would be page-faulted in on every change.
    spare: Vec<Vec<Unit>>,
}

/// One family's units; `stamp`, when the collector gave one, covers the whole family: equal
/// stamps mean every unit is unchanged, and the family is copied without walking its units.
#[derive(Debug)]
struct FamilyUnits {
    name: &'static str,
    stamp: Option<Stamp>,
    units: Vec<Unit>,
}

/// A rendering in progress: the previous one (its units and bytes) to copy from, and the
/// units written so far.
pub(super) struct Reuse<'p> {
    prev: Units,
    prev_body: &'p [u8],
    next: Units,
    /// The previous rendering of the current family, if it had one: its stamp and the units
    /// not matched yet (units are moved out of it, never copied).
    previous: Option<(Option<Stamp>, VecDeque<Unit>)>,
    /// Emptied unit vectors to write this rendering's units into.
    pool: Vec<Vec<Unit>>,
    /// Bytes of the previous body matched but not yet copied, and their samples: consecutive
    /// reused units are copied in one go.
    pending: Option<(usize, usize, u64)>,
    /// The current family is spliced: only changed units are visited, and the previous
    /// units between them are kept (not dropped, as in a walk that visits every unit).
    splice: bool,
    pub(super) spliced: u64,
    pub(super) reused: u64,
    pub(super) rendered: u64,
}

impl<'p> Reuse<'p> {
    pub(super) fn new(mut prev: Units, prev_body: &'p [u8]) -> Self {
        Reuse {
            pool: std::mem::take(&mut prev.spare),
            prev,
            prev_body,
            next: Units::default(),
            previous: None,
            pending: None,
            splice: false,
            spliced: 0,
            reused: 0,
            rendered: 0,
        }
    }

    /// Starts a family (after the sink wrote its header).
    pub(super) fn family(&mut self, name: &'static str) {
        self.retire();
        self.previous = self
            .prev
            .families
            .iter_mut()
            .find(|f| f.name == name)
            .map(|f| (f.stamp, std::mem::take(&mut f.units).into()));
        self.splice = false;
        self.next.families.push(FamilyUnits {
            name,
            stamp: None,
            units: Vec::new(),
        });
    }

    /// Gives the current family's unit table room for as many units as the previous
    /// rendering had, once (so it is not regrown unit by unit).
    fn reserve(&mut self) {
        let before = self.previous.as_ref().map_or(0, |(_, rest)| rest.len());
        let Some(family) = self.next.families.last_mut() else {
            return;
        };
        if family.units.capacity() == 0 {
            // A spare vector with room for the units and what a few changes add; a fresh one
            // with room to grow for a while (it is then reused for as long).
            let need = before + before / 64 + 64;
            let spare = (0..self.pool.len())
                .filter(|i| self.pool[*i].capacity() >= need)
                .min_by_key(|i| self.pool[*i].capacity());
            match spare {
                Some(i) => family.units = self.pool.swap_remove(i),
                None => family.units.reserve(before + before / 8),
            }
        }
    }

    /// Ends the current family's use of its previous rendering: what is left of it went away,
    /// and its emptied vector is kept for the next rendering.
    fn retire(&mut self) {
        if let Some((_, mut rest)) = self.previous.take() {
            rest.clear();
            if rest.capacity() > 0 {
                self.next.spare.push(rest.into());
            }
        }
    }

    /// The previous rendering's units of the current family not matched yet.
    fn rest(&self) -> &[Unit] {
        let Some((_, rest)) = &self.previous else {
            return &[];
        };
        // Only ever taken from at the front: the ring buffer never wraps.
        let (rest, wrapped) = rest.as_slices();
        debug_assert!(wrapped.is_empty());
        rest
    }

    /// Stamps the current family as a whole. When the previous rendering's same family had
    /// the same stamp, takes over its units (placed at `at` in the new body, where nothing is
    /// queued) and returns the bytes to copy and their samples; the caller then writes none of
    /// the family's units itself.
    pub(super) fn whole_family(&mut self, stamp: Stamp, at: usize) -> Option<(&'p [u8], u64)> {
        let next = self.next.families.last_mut()?;
        next.stamp = Some(stamp);
        let (previous_stamp, rest) = self.previous.as_mut()?;
        if *previous_stamp != Some(stamp) || stamp == NEVER || !next.units.is_empty() {
            return None;
        }
        let (Some(first), Some(last)) = (rest.front(), rest.back()) else {
            return None;
        };
        let (from, to) = (first.start, last.end);
        debug_assert!(self.pending.is_none(), "queued bytes copied first");
        let samples = rest.iter().map(|u| u.samples).sum();
        self.reused += rest.len() as u64;
        // Nothing was taken from the front yet: the units lie in order, and no data moves.
        next.units = std::mem::take(rest).into();
        for u in &mut next.units {
            u.shift(from, at);
        }
        Some((&self.prev_body[from..to], samples))
    }

    /// The stamp the previous rendering gave the current family as a whole, if any.
    pub(super) fn previous_stamp(&self) -> Option<Stamp> {
        self.previous.as_ref()?.0
    }

    /// Splices the current family into its previous rendering: the caller visits only the
    /// units that changed since (in ascending key order, each once, none written yet), and
    /// every other previous unit is kept. False when there is no previous rendering of it.
    pub(super) fn splice(&mut self) -> bool {
        let fresh = self
            .next
            .families
            .last()
            .is_some_and(|f| f.units.is_empty());
        self.splice = self.previous.is_some() && fresh;
        self.spliced += u64::from(self.splice);
        self.splice
    }

    /// In a spliced family, keeps the previous units before `key` (all that are left, for
    /// `None`), as if each had been found unchanged: records them at `at` (where the sink
    /// is) onwards and queues their bytes. Returns the bytes to copy first (see
    /// [`Self::queue`]) and the samples kept.
    pub(super) fn keep_before(
        &mut self,
        key: Option<Key>,
        at: usize,
    ) -> (Option<(&'p [u8], u64)>, u64) {
        if !self.splice {
            return (None, 0);
        }
        let rest = self.rest();
        let n = match key {
            Some(key) => before(rest, key),
            None => rest.len(),
        };
        if n == 0 {
            return (None, 0);
        }
        let (from, to) = (rest[0].start, rest[n - 1].end);
        let samples = rest[..n].iter().map(|u| u.samples).sum();
        let base = at + self.pending_len();
        self.reserve();
        if let (Some((_, rest)), Some(next)) =
            (self.previous.as_mut(), self.next.families.last_mut())
        {
            next.units
                .extend(rest.drain(..n).map(|u| u.moved(from, base)));
        }
        self.reused += n as u64;
        (self.queue(from, to, samples), samples)
    }

    /// In a spliced family, drops the previous rendering of `key` (a unit that went away):
    /// the units before it are kept as [`Self::keep_before`] keeps them.
    pub(super) fn drop_unit(&mut self, key: Key, at: usize) -> (Option<(&'p [u8], u64)>, u64) {
        let kept = self.keep_before(Some(key), at);
        if self
            .rest()
            .first()
            .is_some_and(|u| key.cmp_stored(&u.key).is_eq())
            && let Some((_, rest)) = self.previous.as_mut()
        {
            rest.pop_front();
        }
        kept
    }

    /// The previous rendering of `key` when its stamp is unchanged: its byte range, sample
    /// count and stored key. Previous units before it went away and are dropped.
    pub(super) fn find(&mut self, key: Key, stamp: &Stamp) -> Option<(usize, usize, u64, UnitKey)> {
        let (_, rest) = self.previous.as_mut()?;
        while let Some(u) = rest.front() {
            match key.cmp_stored(&u.key) {
                Ordering::Greater => {
                    rest.pop_front();
                }
                Ordering::Less => return None,
                Ordering::Equal => {
                    let u = rest.pop_front()?;
                    if u.stamp != *stamp || *stamp == NEVER {
                        return None;
                    }
                    self.reused += 1;
                    return Some((u.start, u.end, u.samples, u.key));
                }
            }
        }
        None
    }

    /// Bytes matched but not copied yet (they land right after what the sink holds).
    pub(super) fn pending_len(&self) -> usize {
        self.pending.map_or(0, |(s, e, _)| e - s)
    }

    /// Queues a reused unit's bytes; returns bytes (and their samples) to copy first when it
    /// does not continue the queued run.
    pub(super) fn queue(
        &mut self,
        start: usize,
        end: usize,
        samples: u64,
    ) -> Option<(&'p [u8], u64)> {
        match self.pending {
            Some((s, e, n)) if e == start => {
                self.pending = Some((s, end, n + samples));
                None
            }
            queued => {
                self.pending = Some((start, end, samples));
                queued.map(|(s, e, n)| (&self.prev_body[s..e], n))
            }
        }
    }

    /// The queued bytes and their samples, to copy now.
    pub(super) fn flush(&mut self) -> Option<(&'p [u8], u64)> {
        self.pending
            .take()
            .map(|(s, e, n)| (&self.prev_body[s..e], n))
    }

    /// Records a unit written at `start..end` of the new body.
    pub(super) fn push(
        &mut self,
        key: UnitKey,
        stamp: Stamp,
        start: usize,
        end: usize,
        samples: u64,
    ) {
        self.reserve();
        if let Some(family) = self.next.families.last_mut() {
            family.units.push(Unit {
                key,
                stamp,
                start,
                end,
                samples,
            });
        }
    }

    pub(super) fn finish(mut self) -> Units {
        self.retire();
        self.next
    }
}
