//! Rendering per unit, as kube-state-metrics renders per object: a family's samples are written
//! in units (one vault, one schedule, one flagged task, one vault's counts), each with a key
//! and a stamp that changes whenever anything its samples are made of changes. A scrape after
//! a change renders only the units whose stamp moved and copies the bytes of every other unit
//! from the previous rendering, so its cost follows what changed, not the inventory's size.
//!
//! Stamps are either the inventory revision at which the unit's inputs last changed (unique
//! per change, see [`crate::inventory`]) or the unit's whole input when that is a few numbers
//! (counts, a timestamp): equal key and stamp mean equal bytes, so a copy is never stale.

use crate::model::SharedStr;
use std::cmp::Ordering;

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

/// A unit's inputs, or the revision they last changed at; unused slots stay 0. Six: a
/// vault's counts per outcome and whether it exists.
pub type Stamp = [u64; 6];

/// One rendered unit: where its bytes are in the rendering and how many samples they hold.
#[derive(Debug)]
struct Unit {
    key: Option<UnitKey>,
    stamp: Stamp,
    start: usize,
    end: usize,
    samples: u64,
}

/// The units of one rendering, family by family, with the bytes they point into.
#[derive(Debug, Default)]
pub struct Units {
    families: Vec<FamilyUnits>,
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
    /// The previous rendering's units of the current family, and how far they were matched.
    family: Option<usize>,
    cursor: usize,
    /// Bytes of the previous body matched but not yet copied, and their samples: consecutive
    /// reused units are copied in one go.
    pending: Option<(usize, usize, u64)>,
    pub(super) reused: u64,
    pub(super) rendered: u64,
}

impl<'p> Reuse<'p> {
    pub(super) fn new(prev: Units, prev_body: &'p [u8]) -> Self {
        Reuse {
            prev,
            prev_body,
            next: Units::default(),
            family: None,
            cursor: 0,
            pending: None,
            reused: 0,
            rendered: 0,
        }
    }

    /// Starts a family (after the sink wrote its header).
    pub(super) fn family(&mut self, name: &'static str) {
        self.family = self.prev.families.iter().position(|f| f.name == name);
        self.cursor = 0;
        let before = self.family.map_or(0, |i| self.prev.families[i].units.len());
        self.next.families.push(FamilyUnits {
            name,
            stamp: None,
            units: Vec::with_capacity(before + before / 8),
        });
    }

    /// Stamps the current family as a whole. When the previous rendering's same family had
    /// the same stamp, takes over its units (placed at `at` in the new body, where nothing is
    /// queued) and returns the bytes to copy and their samples; the caller then writes none of
    /// the family's units itself.
    pub(super) fn whole_family(&mut self, stamp: Stamp, at: usize) -> Option<(&'p [u8], u64)> {
        let next = self.next.families.last_mut()?;
        next.stamp = Some(stamp);
        let prev = self.prev.families.get_mut(self.family?)?;
        if prev.stamp != Some(stamp) || !next.units.is_empty() {
            return None;
        }
        let (Some(first), Some(last)) = (prev.units.first(), prev.units.last()) else {
            return None;
        };
        let (from, to) = (first.start, last.end);
        debug_assert!(self.pending.is_none(), "queued bytes copied first");
        let samples = prev.units.iter().map(|u| u.samples).sum();
        next.units = std::mem::take(&mut prev.units);
        for u in &mut next.units {
            (u.start, u.end) = (u.start - from + at, u.end - from + at);
        }
        self.reused += next.units.len() as u64;
        Some((&self.prev_body[from..to], samples))
    }

    /// The previous rendering of `key` when its stamp is unchanged: its byte range and
    /// sample count. Consumes the matched unit's key.
    pub(super) fn find(&mut self, key: Key, stamp: &Stamp) -> Option<(usize, usize, u64, UnitKey)> {
        let units = &mut self.prev.families.get_mut(self.family?)?.units;
        while let Some(u) = units.get(self.cursor) {
            match u.key.as_ref().map(|k| key.cmp_stored(k)) {
                Some(Ordering::Greater) | None => self.cursor += 1,
                Some(Ordering::Less) => return None,
                Some(Ordering::Equal) => {
                    let u = &mut units[self.cursor];
                    self.cursor += 1;
                    if u.stamp != *stamp {
                        return None;
                    }
                    return Some((u.start, u.end, u.samples, u.key.take()?));
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
        self.reused += 1;
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
        if let Some(family) = self.next.families.last_mut() {
            family.units.push(Unit {
                key: Some(key),
                stamp,
                start,
                end,
                samples,
            });
        }
    }

    pub(super) fn finish(self) -> Units {
        self.next
    }
}
