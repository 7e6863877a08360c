//! Probe and scan rounds inside `serve`: every vault of the current inventory, at most
//! `concurrency` at a time, each bounded by the timeout, results posted to the [`Board`] one
//! by one as they arrive.

use super::board::Board;
use super::client::{self, Access, VaultKey};
use super::probe::{ProbeResult, probe};
use super::scan::{ClusterTask, ScanResult, scan};
use crate::center::BackupCenter;
use crate::inventory::Inventory;
use crate::model::{Engine, Timestamp, Vault};
use futures::StreamExt;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Cadence {
    pub probe_interval: Duration,
    /// `None`: no scans.
    pub scan_interval: Option<Duration>,
    pub scan_timeout: Duration,
    pub concurrency: usize,
    pub write: bool,
}

/// The vaults (and, for scans, their tasks) of the inventory as it is now; the lock is held
/// only to copy them.
fn current(
    inventory: &RwLock<Inventory>,
    engine: Option<Engine>,
    with_tasks: bool,
) -> Vec<(Vault, Vec<ClusterTask>)> {
    let Ok(inv) = inventory.read() else {
        return Vec::new();
    };
    let center = BackupCenter::for_engine(&inv, Timestamp::now(), engine);
    center
        .vaults()
        .map(|v| {
            let tasks = if with_tasks {
                ClusterTask::on_vault(&center, v)
            } else {
                Vec::new()
            };
            (v.clone(), tasks)
        })
        .collect()
}

/// Probes every vault once; returns (vaults, failed).
pub async fn probe_round(
    vaults: &[Vault],
    access: &Access,
    board: &Board,
    concurrency: usize,
    write: bool,
) -> (usize, usize) {
    // Collected first: a lazy `map` over borrowed vaults makes the future not `Send` for
    // every lifetime, which `tokio::spawn` needs.
    let jobs: Vec<_> = vaults
        .iter()
        .map(|v| async move {
            let key = VaultKey::of(v);
            let result = match client::open(v, access) {
                Ok(store) => probe(&key, &store, access.timeout, write).await,
                Err(e) => ProbeResult::not_opened(&key, &e),
            };
            (key, result)
        })
        .collect();
    let mut results = futures::stream::iter(jobs).buffer_unordered(concurrency.max(1));
    let mut failed = 0;
    while let Some((key, result)) = results.next().await {
        if !result.success {
            failed += 1;
            tracing::debug!(vault = %key, reason = ?result.reason, code = %result.code, "vault probe failed");
        }
        board.record_probe(key, result);
    }
    (vaults.len(), failed)
}

/// Starts the probe loop (and the scan loop when a scan interval is set).
pub fn spawn(
    inventory: Arc<RwLock<Inventory>>,
    engine: Option<Engine>,
    access: Access,
    cadence: Cadence,
    board: Arc<Board>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut handles = Vec::new();
    {
        let (inventory, access, cadence, board) = (
            inventory.clone(),
            access.clone(),
            cadence.clone(),
            board.clone(),
        );
        handles.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(cadence.probe_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let vaults: Vec<Vault> = current(&inventory, engine, false)
                    .into_iter()
                    .map(|(v, _)| v)
                    .collect();
                let alive: BTreeSet<VaultKey> = vaults.iter().map(VaultKey::of).collect();
                board.retain(&alive);
                let started = Instant::now();
                let (n, failed) =
                    probe_round(&vaults, &access, &board, cadence.concurrency, cadence.write).await;
                let seconds = started.elapsed().as_secs_f64();
                board.finish_round(n, failed, seconds);
                tracing::info!(vaults = n, failed, seconds, "vault probe round done");
            }
        }));
    }
    if let Some(every) = cadence.scan_interval {
        handles.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // Scans list whole buckets: one vault at a time keeps their cost flat.
                for (vault, tasks) in current(&inventory, engine, true) {
                    let key = VaultKey::of(&vault);
                    let result = match client::open(&vault, &access) {
                        Ok(store) => scan(&key, &store, &tasks, cadence.scan_timeout).await,
                        Err(e) => ScanResult::not_opened(&key, tasks.len(), &e),
                    };
                    if let Some(e) = &result.error {
                        tracing::debug!(vault = %key, reason = ?e.reason, "vault scan failed");
                    }
                    board.record_scan(key, result);
                }
            }
        }));
    }
    handles
}
