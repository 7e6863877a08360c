//! The scrape render at 100 000 tasks, 1 000 vaults and 1 000 schedules (issue 14: "bring the
//! full render within 10x of a memcpy"):
//!
//! - cold: every family rendered from the inventory, nothing cached (a first scrape, or
//!   `Collector::collect` into a fresh encoder);
//! - after K task changes (status updates, as the watch applies them between two scrapes):
//!   `AppState::render`, which renders again only the units (a vault, a schedule, a flagged
//!   task) whose inputs changed and copies the others' bytes;
//! - unchanged: the same, with nothing changed;
//! - a memcpy of the same bytes.
//!
//! Run: `cargo bench --bench render` (prints a table; nothing is asserted on time).
//! Optional: `cargo bench --bench render -- [tasks] [--cold-only|--changed-only]` (loop the
//! cold render, or one change and a render, for 20 s, for a profiler).

#[path = "support/fixtures.rs"]
mod fixtures;

use backupscope::center::BackupCenter;
use backupscope::inventory::Inventory;
use backupscope::metrics::collector::{CollectOptions, Collector};
use backupscope::metrics::exposition::{Format, TextEncoder};
use backupscope::web::AppState;
use std::hint::black_box;
use std::sync::{Arc, RwLock};
use std::time::Instant;

fn cold(collector: &Collector, center: &BackupCenter) -> Vec<u8> {
    let mut buf = Vec::with_capacity(8 << 20);
    let mut encoder = TextEncoder::new(&mut buf, Format::Prometheus004);
    collector.collect(center, None, &mut encoder);
    encoder.finish();
    buf
}

fn change(inventory: &RwLock<Inventory>, scale: &fixtures::Scale, k: usize, round: usize) {
    if let Ok(mut inv) = inventory.write() {
        fixtures::change_tasks(&mut inv, scale, k, round);
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let tasks = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(fixtures::TARGET.tasks);
    let scale = fixtures::Scale {
        tasks,
        vaults: (tasks / 100).max(1),
        schedules: (tasks / 100).max(1),
        ..fixtures::TARGET
    };
    let now = "2026-11-25T09:00:00Z".parse().expect("timestamp");
    let inventory = fixtures::inventory(&scale);
    let collector = Collector::new(CollectOptions::default());

    if args.iter().any(|a| a == "--cold-only") {
        let started = Instant::now();
        let mut n = 0;
        while started.elapsed().as_secs_f64() < 20.0 {
            let center = BackupCenter::new(&inventory, now);
            black_box(cold(&collector, &center));
            n += 1;
        }
        println!(
            "{n} cold renders in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        return;
    }

    if args.iter().any(|a| a == "--changed-only") {
        let inventory = Arc::new(RwLock::new(inventory));
        let state = AppState::new(
            inventory.clone(),
            None,
            Arc::new(collector),
            None,
            Some(now),
        );
        let mut buf = Vec::new();
        let started = Instant::now();
        let mut n = 0;
        while started.elapsed().as_secs_f64() < 20.0 {
            change(&inventory, &scale, 1, n);
            buf.clear();
            state.render(&mut buf, Format::Prometheus004);
            n += 1;
        }
        println!(
            "{n} renders after one change in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        return;
    }

    let rounds = 21;
    let mut colds = Vec::new();
    let mut body = Vec::new();
    for _ in 0..rounds {
        let center = BackupCenter::new(&inventory, now);
        let t = Instant::now();
        body = cold(&collector, &center);
        colds.push(t.elapsed().as_secs_f64());
    }
    let mut copies = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(black_box(&body).to_vec());
        copies.push(t.elapsed().as_secs_f64());
    }
    let memcpy = fixtures::median(copies);

    let inventory = Arc::new(RwLock::new(inventory));
    let state = AppState::new(
        inventory.clone(),
        None,
        Arc::new(Collector::new(CollectOptions::default())),
        None,
        Some(now),
    );
    let mut buf = Vec::with_capacity(body.len() + 65536);
    state.render(&mut buf, Format::Prometheus004);

    println!(
        "render at {tasks} tasks, {} vaults, {} schedules: {} bytes\n",
        scale.vaults,
        scale.schedules,
        body.len()
    );
    println!("| scrape | median | relative to a memcpy |");
    println!("| --- | ---: | ---: |");
    let row = |what: &str, s: f64| println!("| {what} | {:.3} ms | {:.1}x |", s * 1e3, s / memcpy);
    row("cold: every family rendered", fixtures::median(colds));
    for k in [0, 1, 100, 1_000, 10_000] {
        let mut times = Vec::new();
        for round in 0..rounds {
            change(&inventory, &scale, k, round);
            buf.clear();
            let t = Instant::now();
            state.render(&mut buf, Format::Prometheus004);
            times.push(t.elapsed().as_secs_f64());
        }
        let what = match k {
            0 => "nothing changed".to_string(),
            1 => "after 1 task change".to_string(),
            k => format!("after {k} task changes"),
        };
        row(&what, fixtures::median(times));
    }
    row("memcpy of the same bytes", memcpy);
}
