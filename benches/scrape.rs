//! Scrape benchmark (issue: `serve`): at 100 000 tasks (5 % failed, 1 % in progress), 1 000
//! vaults and 1 000 schedules, how long a scrape of /metrics takes, how many bytes it is, the
//! ratio to a plain memory copy of the same bytes in the same run, and the process's RSS.
//!
//! Run: `cargo bench --bench scrape` (prints figures; no timing is asserted anywhere).

#[path = "support/fixtures.rs"]
mod fixtures;

use backupscope::center::BackupCenter;
use backupscope::metrics::collector::{CollectOptions, Collector};
use backupscope::metrics::exposition::{Format, TextEncoder};
use backupscope::web::AppState;
use std::hint::black_box;
use std::sync::{Arc, RwLock};
use std::time::Instant;

const ROUNDS: usize = 51;

fn main() {
    let scale = fixtures::TARGET;
    let inventory = fixtures::inventory(&scale);
    let now = "2026-11-25T09:00:00Z".parse().expect("timestamp");
    println!(
        "backup center: {} tasks ({} per mille failed, {} per mille in progress), {} vaults, {} schedules",
        scale.tasks, scale.failed_per_mille, scale.active_per_mille, scale.vaults, scale.schedules
    );

    // Full collection: what a scrape costs right after the inventory changed.
    let collector = Collector::new(CollectOptions::default());
    let mut full = Vec::new();
    let mut bytes = 0;
    for _ in 0..ROUNDS {
        let center = BackupCenter::new(&inventory, now);
        let mut buf = Vec::with_capacity(8 << 20);
        let started = Instant::now();
        let mut encoder = TextEncoder::new(&mut buf, Format::Prometheus004);
        collector.collect(&center, None, &mut encoder);
        encoder.finish();
        full.push(started.elapsed().as_secs_f64());
        bytes = buf.len();
        black_box(&buf);
    }

    // Served scrape: the HTTP handler's render path, inventory unchanged between scrapes.
    let state = AppState::new(
        Arc::new(RwLock::new(inventory)),
        None,
        Arc::new(Collector::new(CollectOptions::default())),
        None,
        Some(now),
    );
    let mut served = Vec::new();
    let mut served_bytes = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let scrape = state.scrape(Format::Prometheus004);
        served.push(started.elapsed().as_secs_f64());
        served_bytes = scrape.map(|s| s.to_vec()).unwrap_or_default();
    }

    // A plain copy of the same bytes into a fresh buffer, as the baseline.
    let mut copies = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let copy = black_box(&served_bytes).to_vec();
        copies.push(started.elapsed().as_secs_f64());
        black_box(copy);
    }

    let (full_ms, served_ms, copy_ms) = (
        fixtures::median(full) * 1e3,
        fixtures::median(served) * 1e3,
        fixtures::median(copies) * 1e3,
    );
    let lines = served_bytes.iter().filter(|b| **b == b'\n').count();
    let (peak, current) = fixtures::rss_of("self");
    println!(
        "bytes per scrape:                 {} ({lines} lines)",
        served_bytes.len()
    );
    println!("median scrape, inventory changed: {full_ms:.2} ms ({bytes} bytes)");
    println!("median scrape, served (cached):   {served_ms:.2} ms");
    println!("median memcpy of the same bytes:  {copy_ms:.3} ms");
    println!(
        "ratio served/memcpy:              {:.1}",
        served_ms / copy_ms
    );
    println!("ratio changed/memcpy:             {:.1}", full_ms / copy_ms);
    println!(
        "RSS: peak {:.0} MiB, now {:.0} MiB",
        fixtures::mib(peak),
        fixtures::mib(current)
    );
}
