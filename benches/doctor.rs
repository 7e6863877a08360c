//! Doctor benchmark: how long one `diagnose` takes at the scrape benchmark's scale (100 000
//! tasks, 5 % failed, 1 % in progress, 1 000 vaults of which 20 Unavailable, 1 000 schedules),
//! and how many findings it makes. `serve` runs it at most once a minute per inventory
//! revision (`backupcenter_doctor_findings`), `backupscope doctor` once.
//!
//! Run: `cargo bench --bench doctor` (prints figures; no timing is asserted anywhere).

#[path = "support/fixtures.rs"]
mod fixtures;

use backupscope::center::BackupCenter;
use backupscope::report::doctor::ClusterFacts;
use std::hint::black_box;
use std::time::Instant;

const ROUNDS: usize = 11;

fn main() {
    let scale = fixtures::TARGET;
    let inventory = fixtures::inventory(&scale);
    let now = "2026-11-25T09:00:00Z".parse().expect("timestamp");
    let facts = ClusterFacts::default();
    let mut times = Vec::new();
    let mut findings = 0;
    for _ in 0..ROUNDS {
        let center = BackupCenter::new(&inventory, now);
        let started = Instant::now();
        let out = backupscope::doctor::diagnose(&center, &facts);
        times.push(started.elapsed().as_secs_f64());
        findings = out.len();
        black_box(out);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "backup center: {} tasks ({} per mille failed, {} per mille in progress), {} vaults, {} schedules",
        scale.tasks, scale.failed_per_mille, scale.active_per_mille, scale.vaults, scale.schedules
    );
    println!("findings:               {findings}");
    println!("median diagnose:        {:.2} ms", times[ROUNDS / 2] * 1e3);
    println!(
        "fastest / slowest:      {:.2} / {:.2} ms",
        times[0] * 1e3,
        times[ROUNDS - 1] * 1e3
    );
}
