//! backupscope side by side with what users would pick instead, in one run on one machine:
//!
//! - (a) the full render of the 100 000-task scrape vs the official Python `prometheus_client`
//!   encoding the same series set (`generate_latest` over the parsed families);
//! - (c) a scrape (full render, and served from the per-revision cache) vs a memory copy of
//!   the same bytes;
//! - (d) cost curves at 1k, 10k, 100k and 1M tasks: inventory build (every object mapped by
//!   the dialect and applied, as the watch does), full render, served scrape, RSS, series;
//! - (e) series per 1 000 tasks, with every `--disable-metric` option, next to Velero's own
//!   server metrics for the same cluster (docs/BENCHMARKS.md derives Velero's count).
//!
//! (b), watch to inventory against a kube-rs reflector, is benches/side_by_side_watch.rs: it
//! runs the test API server, which nothing here needs.
//!
//! Each scale runs in a child process of this binary, so its RSS is its own.
//!
//!   scripts/side-by-side.sh          (installs prometheus-client, then runs this)
//!   cargo bench --bench side_by_side

#[path = "support/fixtures.rs"]
mod fixtures;

use backupscope::center::BackupCenter;
use backupscope::metrics::collector::{CollectOptions, Collector};
use backupscope::metrics::exposition::{Format, TextEncoder};
use backupscope::metrics::families;
use backupscope::web::AppState;
use serde_json::{Value, json};
use std::hint::black_box;
use std::process::Command;
use std::sync::{Arc, RwLock};
use std::time::Instant;

const SCALES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];

fn scale(tasks: usize) -> fixtures::Scale {
    // The benchmark's proportions: one vault and one schedule per 100 tasks.
    fixtures::Scale {
        tasks,
        vaults: (tasks / 100).max(1),
        schedules: (tasks / 100).max(1),
        failed_per_mille: fixtures::TARGET.failed_per_mille,
        active_per_mille: fixtures::TARGET.active_per_mille,
    }
}

fn render(collector: &Collector, center: &BackupCenter) -> Vec<u8> {
    let mut buf = Vec::with_capacity(8 << 20);
    let mut encoder = TextEncoder::new(&mut buf, Format::Prometheus004);
    collector.collect(center, None, &mut encoder);
    encoder.finish();
    buf
}

fn series(exposition: &[u8]) -> usize {
    exposition
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
        .count()
}

/// One scale, in this (child) process: prints one JSON line.
fn measure(tasks: usize, dump: Option<&str>) {
    let scale = scale(tasks);
    let rounds = if tasks >= 1_000_000 { 7 } else { 21 };
    let now = "2026-11-25T09:00:00Z".parse().expect("timestamp");
    let started = Instant::now();
    let inventory = fixtures::inventory(&scale);
    let build_s = started.elapsed().as_secs_f64();
    let (_, rss_inventory) = fixtures::rss_of("self");

    let collector = Collector::new(CollectOptions::default());
    let mut full = Vec::new();
    let mut body = Vec::new();
    for _ in 0..rounds {
        let center = BackupCenter::new(&inventory, now);
        let t = Instant::now();
        body = render(&collector, &center);
        full.push(t.elapsed().as_secs_f64());
    }
    // Series with each optional family turned off, one at a time and all together.
    let center = BackupCenter::new(&inventory, now);
    let mut disabled = Vec::new();
    let optional: Vec<&str> = families::optional().map(|f| f.name).collect();
    for name in optional.iter().map(|n| vec![*n]).chain([optional.clone()]) {
        let c = Collector::new(CollectOptions {
            disabled: name.iter().map(|n| n.to_string()).collect(),
        });
        let label = if name.len() == 1 {
            name[0].to_string()
        } else {
            "all of them".to_string()
        };
        disabled.push(json!({"disabled": label, "series": series(&render(&c, &center))}));
    }
    drop(center);

    let state = AppState::new(
        Arc::new(RwLock::new(inventory)),
        None,
        Arc::new(Collector::new(CollectOptions::default())),
        None,
        Some(now),
    );
    let mut served = Vec::new();
    let mut served_body = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let scrape = state.scrape(Format::Prometheus004);
        served.push(t.elapsed().as_secs_f64());
        served_body = scrape.map(|s| s.to_vec()).unwrap_or_default();
    }
    // A scrape after the watch applied 100 task changes: only the units they touched are
    // rendered again, the others copied (src/metrics/units.rs).
    let mut changed = Vec::new();
    for round in 0..rounds {
        if let Ok(mut inventory) = state.inventory.write() {
            fixtures::change_tasks(&mut inventory, &scale, 100, round);
        }
        let t = Instant::now();
        let scrape = black_box(state.scrape(Format::Prometheus004));
        changed.push(t.elapsed().as_secs_f64());
        drop(scrape);
    }
    let mut copies = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let copy = black_box(&served_body).to_vec();
        copies.push(t.elapsed().as_secs_f64());
        black_box(copy);
    }
    if let Some(path) = dump {
        std::fs::write(path, &body).expect("write the exposition");
    }
    let (peak, _) = fixtures::rss_of("self");
    println!(
        "{}",
        json!({
            "tasks": tasks,
            "vaults": scale.vaults,
            "schedules": scale.schedules,
            "build_s": build_s,
            "full_ms": fixtures::median(full) * 1e3,
            "served_ms": fixtures::median(served) * 1e3,
            "changed_ms": fixtures::median(changed) * 1e3,
            "memcpy_ms": fixtures::median(copies) * 1e3,
            "bytes": body.len(),
            "series": series(&body),
            "rss_inventory": rss_inventory,
            "rss_peak": peak,
            "disabled": disabled,
        })
    );
}

fn python() -> String {
    std::env::var("BACKUPSCOPE_PYTHON").unwrap_or_else(|_| "/opt/backupscope-py/bin/python".into())
}

/// (a): the Python client encoding the same families; returns its JSON report.
fn python_client(exposition: &str) -> Value {
    let script = r##"
import json, statistics, sys, time
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
with open(sys.argv[1], encoding="utf-8", newline="") as f:
    body = f.read()
families = list(text_string_to_metric_families(body))
class Fixed:
    def collect(self):
        return families
registry = CollectorRegistry(auto_describe=False)
registry.register(Fixed())
out = generate_latest(registry)
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    out = generate_latest(registry)
    times.append(time.perf_counter() - t)
series = sum(1 for l in out.decode().splitlines() if l and not l.startswith("#"))
print(json.dumps({"median_ms": statistics.median(times) * 1e3, "bytes": len(out), "series": series}))
"##;
    let out = Command::new(python())
        .args(["-c", script, exposition, "9"])
        .output()
        .expect("run python (scripts/side-by-side.sh installs prometheus-client)");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python prints JSON")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        let tasks = args[i + 1].parse().expect("task count");
        let dump = args.get(i + 2).filter(|a| !a.starts_with("--"));
        return measure(tasks, dump.map(String::as_str));
    }
    let dir = std::env::temp_dir().join(format!("backupscope-side-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let dump = dir.join("scrape-100k.prom");
    let exe = std::env::current_exe().expect("own path");
    let mut rows = Vec::new();
    for tasks in SCALES {
        let mut cmd = Command::new(&exe);
        cmd.args(["--measure", &tasks.to_string()]);
        if tasks == 100_000 {
            cmd.arg(&dump);
        }
        let out = cmd.output().expect("run a scale");
        assert!(out.status.success(), "scale {tasks} failed");
        let row: Value = serde_json::from_slice(&out.stdout).expect("a JSON line");
        eprintln!("measured {tasks} tasks");
        rows.push(row);
    }
    let f = |r: &Value, k: &str| r[k].as_f64().unwrap_or(f64::NAN);

    println!(
        "### (d) cost curves (one vault and one schedule per 100 tasks; 5 % failed, 1 % running)\n"
    );
    println!(
        "| tasks | inventory build | cold render | after 100 changes | served scrape | memcpy | cold/memcpy | changed/memcpy | served/memcpy | bytes | series | RSS after build | peak RSS |"
    );
    println!(
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in &rows {
        println!(
            "| {} | {:.2} s | {:.2} ms | {:.3} ms | {:.3} ms | {:.3} ms | {:.0}x | {:.1}x | {:.1}x | {:.1} MB | {} | {:.0} MiB | {:.0} MiB |",
            r["tasks"],
            f(r, "build_s"),
            f(r, "full_ms"),
            f(r, "changed_ms"),
            f(r, "served_ms"),
            f(r, "memcpy_ms"),
            f(r, "full_ms") / f(r, "memcpy_ms"),
            f(r, "changed_ms") / f(r, "memcpy_ms"),
            f(r, "served_ms") / f(r, "memcpy_ms"),
            f(r, "bytes") / 1e6,
            r["series"],
            fixtures::mib(f(r, "rss_inventory") as u64),
            fixtures::mib(f(r, "rss_peak") as u64),
        );
    }

    let at_100k = &rows[2];
    let py = python_client(&dump.to_string_lossy());
    println!("\n### (a) and (c) at 100 000 tasks\n");
    println!("| encoder | median | bytes | series | vs backupscope full render |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let full = f(at_100k, "full_ms");
    for (name, ms, bytes, series) in [
        (
            "backupscope, cold render (every family from the inventory)",
            full,
            at_100k["bytes"].clone(),
            at_100k["series"].clone(),
        ),
        (
            "backupscope, after 100 task changes (changed units rendered, the rest copied)",
            f(at_100k, "changed_ms"),
            at_100k["bytes"].clone(),
            at_100k["series"].clone(),
        ),
        (
            "backupscope, served (inventory unchanged)",
            f(at_100k, "served_ms"),
            at_100k["bytes"].clone(),
            at_100k["series"].clone(),
        ),
        (
            "memcpy of the same bytes",
            f(at_100k, "memcpy_ms"),
            at_100k["bytes"].clone(),
            Value::Null,
        ),
        (
            "Python prometheus_client generate_latest, same families",
            f(&py, "median_ms"),
            py["bytes"].clone(),
            py["series"].clone(),
        ),
    ] {
        println!(
            "| {name} | {ms:.2} ms | {bytes} | {series} | {:.2}x |",
            ms / full
        );
    }

    println!("\n### (e) series per 1 000 tasks at 100 000 tasks (1 000 vaults, 1 000 schedules)\n");
    println!("| backupscope | series | per 1 000 tasks |");
    println!("| --- | ---: | ---: |");
    let tasks = f(at_100k, "tasks");
    println!(
        "| everything | {} | {:.1} |",
        at_100k["series"],
        f(at_100k, "series") / tasks * 1000.0
    );
    for d in at_100k["disabled"].as_array().into_iter().flatten() {
        println!(
            "| `--disable-metric` {} | {} | {:.1} |",
            d["disabled"].as_str().unwrap_or("?"),
            d["series"],
            f(d, "series") / tasks * 1000.0
        );
    }
    // Velero's own server metrics for the same cluster (S schedules, L locations, no backup
    // repositories), from its source at d30d389b (docs/BENCHMARKS.md, "Velero's own series"):
    // 87 + 38 S + L, plus 3 per backup run since the server started when CSI is enabled.
    let (s, l) = (f(at_100k, "schedules"), f(at_100k, "vaults"));
    let velero = 87.0 + 38.0 * s + l;
    println!(
        "| Velero server (`velero_*` + Go/process defaults), CSI off | {velero:.0} | {:.1} |",
        velero / tasks * 1000.0
    );
    println!(
        "| Velero server, CSI on, every task run since its last restart | {:.0} | {:.1} |",
        velero + 3.0 * tasks,
        (velero + 3.0 * tasks) / tasks * 1000.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
