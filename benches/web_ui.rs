//! Page weight and time to first render of the web UI at 100 000 tasks.
//!
//! Writes the benchmark backup center (`support::fixtures::TARGET`: 100 000 Velero Backups, 5 %
//! failed, 1 % in progress, 1 000 vaults and schedules) as a snapshot, serves it with the real
//! `backupscope serve`, and opens each dashboard in Debian's chromium through
//! tests/browser/ui.mjs (needs scripts/install-test-deps.sh). Time to first render runs from
//! navigation start to the page's content drawn (every API answer in); page weight is the sum of
//! response bodies of that render (HTML, script, stylesheet, icon, API documents).
//!
//!   cargo bench --bench web_ui

#[path = "support/fixtures.rs"]
mod fixtures;

use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Each page is opened this many times; the median is reported.
const VISITS: usize = 5;

fn main() {
    let scale = fixtures::TARGET;
    let dir = std::env::temp_dir().join(format!("backupscope-web-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the snapshot directory");
    let started = Instant::now();
    write_snapshot(&dir, &scale);
    eprintln!(
        "snapshot written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut serve = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(["serve", "--snapshot"])
        .arg(&dir)
        .args(["--now", "2026-11-25T09:00:00Z", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start backupscope serve");
    let stdout = serve.stdout.take().expect("piped stdout");
    let url = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("backupscope listening on ")
                .map(str::to_string)
        })
        .expect("serve prints its address");
    eprintln!(
        "serving {} after {:.1} s",
        url,
        started.elapsed().as_secs_f64()
    );

    let pages = [
        ("Backup Locations", "#/locations"),
        ("Backup Operation Status", "#/operations"),
        ("Addon Status", "#/addons"),
        ("Backup Health", "#/health"),
        (
            "vault detail (100 tasks)",
            "#/backuplocation/velero/vault-0007",
        ),
        ("task detail", "#/backup/velero/schedule-0007-00000007"),
    ];
    let config = json!({
        "baseUrl": format!("{url}/"),
        "screenshotDir": null,
        "pages": pages.iter().flat_map(|(name, hash)| {
            (0..VISITS).map(move |i| json!({"name": format!("{name}#{i}"), "hash": hash}))
        }).collect::<Vec<_>>(),
    });
    let config_path = dir.join("browser.json");
    std::fs::write(&config_path, config.to_string()).expect("write the browser config");
    let browser = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let out = Command::new("node")
        .arg(browser.join("ui.mjs"))
        .arg(&config_path)
        .current_dir(&browser)
        .stderr(Stdio::inherit())
        .output()
        .expect("run node tests/browser/ui.mjs (scripts/install-test-deps.sh installs it)");
    let _ = serve.kill();
    let _ = serve.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "ui.mjs failed: {}", out.status);
    let report: Value = serde_json::from_slice(&out.stdout).expect("ui.mjs prints JSON");
    let visits = report["pages"].as_array().cloned().unwrap_or_default();

    println!(
        "web UI at {} tasks, {} vaults, {} schedules; median of {VISITS} visits",
        scale.tasks, scale.vaults, scale.schedules
    );
    println!("| page | requests | transferred | decoded | time to first render |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, _) in pages {
        let of_page: Vec<&Value> = visits
            .iter()
            .filter(|v| {
                v["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(&format!("{name}#")))
            })
            .collect();
        for v in &of_page {
            let problems = &v["problems"];
            for kind in ["console", "pageErrors", "failedRequests", "badResponses"] {
                assert_eq!(problems[kind], json!([]), "{name}: {kind}");
            }
        }
        let ms: Vec<f64> = of_page
            .iter()
            .filter_map(|v| v["renderMs"].as_f64())
            .collect();
        let first = |field: &str| of_page.first().and_then(|v| v[field].as_u64()).unwrap_or(0);
        let (bytes, wire, requests) = (first("bytes"), first("transferred"), first("requests"));
        println!(
            "| {name} | {requests} | {:.1} KiB | {:.1} KiB | {:.0} ms |",
            wire as f64 / 1024.0,
            bytes as f64 / 1024.0,
            fixtures::median(ms)
        );
    }
    let _ = std::io::stdout().flush();
}

/// The objects as `kubectl get -o json` Lists, one file per kind.
fn write_snapshot(dir: &Path, scale: &fixtures::Scale) {
    let mut vaults = Vec::new();
    let mut schedules = Vec::new();
    let mut backups = Vec::new();
    fixtures::for_each_object(scale, |o| match o["kind"].as_str() {
        Some("BackupStorageLocation") => vaults.push(o),
        Some("Schedule") => schedules.push(o),
        _ => backups.push(o),
    });
    for (name, items) in [
        ("velero-backupstoragelocations.json", vaults),
        ("velero-schedules.json", schedules),
        ("velero-backups.json", backups),
    ] {
        let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
        let file = std::fs::File::create(dir.join(name)).expect("create a snapshot file");
        serde_json::to_writer(std::io::BufWriter::new(file), &list).expect("write a snapshot file");
    }
}
