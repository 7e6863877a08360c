//! The latest probe and scan of every vault, written by the periodic rounds and read by the
//! collector at scrape time. Writers hold the lock only to insert one result, readers only
//! to render, so a hanging bucket can never hold up `/metrics`.

use super::client::VaultKey;
use super::probe::ProbeResult;
use super::scan::ScanResult;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{RwLock, RwLockReadGuard};

#[derive(Debug, Default)]
pub struct BoardState {
    pub probes: BTreeMap<VaultKey, ProbeResult>,
    pub scans: BTreeMap<VaultKey, ScanResult>,
    /// The last complete probe round.
    pub last_round: Option<Round>,
}

/// How one probe round went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Round {
    pub vaults: usize,
    pub failed: usize,
    pub seconds: f64,
    /// Completed rounds so far.
    pub number: u64,
}

#[derive(Debug, Default)]
pub struct Board {
    state: RwLock<BoardState>,
}

impl Board {
    pub fn new() -> Self {
        Self::default()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BoardState> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn read(&self) -> RwLockReadGuard<'_, BoardState> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn record_probe(&self, key: VaultKey, result: ProbeResult) {
        self.write().probes.insert(key, result);
    }

    pub fn record_scan(&self, key: VaultKey, result: ScanResult) {
        self.write().scans.insert(key, result);
    }

    pub fn finish_round(&self, vaults: usize, failed: usize, seconds: f64) {
        let mut s = self.write();
        let number = s.last_round.map_or(0, |r| r.number) + 1;
        s.last_round = Some(Round {
            vaults,
            failed,
            seconds,
            number,
        });
    }

    /// Forgets vaults that left the cluster, so their series stop.
    pub fn retain(&self, alive: &BTreeSet<VaultKey>) {
        let mut s = self.write();
        s.probes.retain(|k, _| alive.contains(k));
        s.scans.retain(|k, _| alive.contains(k));
    }

    pub fn probe(&self, key: &VaultKey) -> Option<ProbeResult> {
        self.read().probes.get(key).cloned()
    }
}
