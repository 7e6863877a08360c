//! Bounded, offline fuzzing of everything after the loader: the dialect mappers, the
//! inventory, the verdicts, the reports (status, describe, doctor, events) and the exposition
//! writer. Inputs are the bundled examples' objects with structure-aware mutations (wrong
//! types, nulls, unknown phases, broken timestamps, hostile and colliding names, swapped kinds,
//! duplicated objects), replayed the same way on every run (fixed seeds).
//!
//! What must hold for every case: no panic; every report serializes; the exposition in both
//! formats has no duplicate series, and passes two independent parsers: `promtool check
//! metrics` (Prometheus' own 0.0.4 parser and linter) and the official Python
//! `prometheus_client` parsers for 0.0.4 and OpenMetrics. `FUZZ_CASES=<n>` runs longer; an
//! input that breaks it becomes a regression test at the end of this file.

mod support;

use backupscope::center::BackupCenter;
use backupscope::inventory::Inventory;
use backupscope::metrics::collector::{CollectOptions, Collector};
use backupscope::metrics::exposition::{Format, TextEncoder};
use backupscope::report::doctor::{ClusterFacts, DoctorReport};
use backupscope::report::{StatusReport, describe, events::EventsReport};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;
use support::{promtool, python, tempdir::TempDir};

#[path = "support/lcg.rs"]
mod lcg;
use lcg::Lcg;

const NOW: &str = "2026-11-25T09:00:00Z";

fn cases(default: usize) -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every object of both examples, Lists flattened, in file order.
fn example_objects() -> Vec<Value> {
    let mut out = Vec::new();
    for dir in ["examples/ack-cluster", "examples/velero-cluster"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut files: Vec<_> = std::fs::read_dir(&root)
            .expect("examples")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read example");
            let doc: Value = serde_norway::from_str(&text).expect("example YAML");
            match doc.get("items").and_then(Value::as_array) {
                Some(items) => out.extend(items.iter().cloned()),
                None => out.push(doc),
            }
        }
    }
    assert!(out.len() > 40, "examples shrank: {} objects", out.len());
    out
}

/// Values that break naive code: empty, huge, escape sequences, unknown phases, odd numbers
/// and timestamps, words that mean something elsewhere.
fn hostile_string(rng: &mut Lcg) -> String {
    let pool = [
        "",
        " ",
        "Failed",
        "Completed",
        "InProgress",
        "PartiallyFailed",
        "FailedValidation",
        "Available",
        "Unavailable",
        "Exploded",
        "failed",
        "Deleting",
        "WaitingForPluginOperations",
        "2026-13-45T99:99:99Z",
        "2026-11-25T09:00:00Z",
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "-2026-11-25T09:00:00Z",
        "0 2 * * *",
        "@every 0s",
        "@every 99999999999999999999h",
        "99999999999999999999",
        "-1",
        "NaN",
        "1e400",
        "1Gi",
        "-5Mi",
        "0.000000001m",
        "18446744073709551616Ei",
        "\u{1b}]0;pwned\u{7}\u{1b}[2J",
        "q\"uote\\back\nnew\ttab\r\0",
        "ユニコード🙂",
        "csdr",
        "velero",
        "default",
        "csdr-velero",
        "velero/velero:v1.16.0",
        "registry/migrate-controller:v1.7.9",
        "OOMKilled",
        "CrashLoopBackOff",
        "AccessDenied",
        "../../etc/passwd",
    ];
    match rng.next(10) {
        0 => "x".repeat(1 + rng.index(20_000)),
        1 => (0..rng.index(40))
            .map(|_| char::from_u32(rng.next(0x11_0000) as u32).unwrap_or('\u{fffd}'))
            .collect(),
        _ => pool[rng.index(pool.len())].to_string(),
    }
}

fn hostile_value(rng: &mut Lcg) -> Value {
    match rng.next(9) {
        0 => Value::Null,
        1 => json!(rng.next(3) == 0),
        2 => json!(rng.next(1 << 40) as i64 - (1 << 39)),
        3 => json!(f64::MAX),
        4 => json!([]),
        5 => json!({}),
        6 => json!([hostile_string(rng), null, {"name": hostile_string(rng)}]),
        _ => Value::String(hostile_string(rng)),
    }
}

/// A random node of `v` (a mapping value or a sequence item, at any depth).
fn random_node<'v>(rng: &mut Lcg, v: &'v mut Value) -> &'v mut Value {
    let mut node = v;
    for _ in 0..1 + rng.next(6) {
        let len = match &*node {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        };
        if len == 0 || rng.next(4) == 0 {
            break;
        }
        let i = rng.index(len);
        node = match node {
            Value::Object(m) => m.values_mut().nth(i).expect("index in range"),
            Value::Array(a) => &mut a[i],
            _ => unreachable!("len > 0 only for containers"),
        };
    }
    node
}

/// The fields the dialects read most, so mutations land where decisions are made.
const HOT: &[&str] = &[
    "/status/phase",
    "/status/message",
    "/status/failureReason",
    "/status/startTimestamp",
    "/status/completionTimestamp",
    "/status/lastValidationTime",
    "/metadata/name",
    "/metadata/namespace",
    "/metadata/labels",
    "/metadata/creationTimestamp",
    "/metadata/ownerReferences",
    "/spec/storageLocation",
    "/spec/backupLocation",
    "/spec/schedule",
    "/spec/paused",
    "/spec/provider",
    "/spec/objectStorage/bucket",
    "/spec/config",
    "/spec/template",
    "/spec/replicas",
    "/status/containerStatuses",
    "/status/containerStatuses/0/name",
    "/status/containerStatuses/0/restartCount",
    "/status/containerStatuses/0/lastState",
    "/spec/containers/0/resources",
    "/spec/containers/0/image",
    "/involvedObject",
    "/reason",
    "/type",
    "/count",
];

const KINDS: &[(&str, &str)] = &[
    ("csdr.alibabacloud.com/v1beta1", "BackupLocation"),
    ("csdr.alibabacloud.com/v1beta1", "ApplicationBackup"),
    ("csdr.alibabacloud.com/v1beta1", "BackupSchedule"),
    ("csdr.alibabacloud.com/v1beta1", "ApplicationRestore"),
    ("velero.io/v1", "BackupStorageLocation"),
    ("velero.io/v1", "Backup"),
    ("velero.io/v1", "Schedule"),
    ("velero.io/v1", "Restore"),
    ("velero.io/v1", "PodVolumeBackup"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "DaemonSet"),
    ("v1", "Pod"),
    ("v1", "Event"),
    ("events.k8s.io/v1", "Event"),
];

fn mutate(rng: &mut Lcg, objects: &mut Vec<Value>) {
    for _ in 0..1 + rng.next(8) {
        if objects.is_empty() {
            return;
        }
        let i = rng.index(objects.len());
        match rng.next(8) {
            0 | 1 => {
                let path = HOT[rng.index(HOT.len())];
                let value = hostile_value(rng);
                if let Some(slot) = objects[i].pointer_mut(path) {
                    *slot = value;
                } else if let Some((parent, key)) = path.rsplit_once('/')
                    && let Some(Value::Object(m)) = objects[i].pointer_mut(parent)
                {
                    m.insert(key.to_string(), value);
                }
            }
            2 => *random_node(rng, &mut objects[i]) = hostile_value(rng),
            3 => {
                // Delete a key somewhere.
                if let Value::Object(m) = random_node(rng, &mut objects[i])
                    && !m.is_empty()
                {
                    let key = m.keys().nth(rng.index(m.len())).cloned();
                    if let Some(key) = key {
                        m.remove(&key);
                    }
                }
            }
            4 => {
                // Read one kind's body as another's.
                let (api, kind) = KINDS[rng.index(KINDS.len())];
                if let Value::Object(m) = &mut objects[i] {
                    m.insert("apiVersion".into(), json!(api));
                    m.insert("kind".into(), json!(kind));
                }
            }
            5 => {
                // The same object twice (as two files of a bundle may hold it), maybe changed.
                let mut copy = objects[i].clone();
                if rng.next(2) == 0 {
                    *random_node(rng, &mut copy) = hostile_value(rng);
                }
                objects.push(copy);
            }
            6 => {
                // Names that collide with another object's, or differ only past the label cap.
                let j = rng.index(objects.len());
                let name = objects[j].pointer("/metadata/name").cloned();
                if let (Some(name), Some(slot)) = (name, objects[i].pointer_mut("/metadata/name")) {
                    *slot = match (rng.next(2), name.as_str()) {
                        (0, Some(n)) => json!(format!("{}{n}", "y".repeat(600))),
                        _ => name,
                    };
                }
            }
            _ => {
                // Repeat items of a list inside the object (containers, statuses, owners).
                let node = random_node(rng, &mut objects[i]);
                if let Value::Array(a) = node
                    && !a.is_empty()
                {
                    let item = a[rng.index(a.len())].clone();
                    for _ in 0..1 + rng.next(4) {
                        a.push(item.clone());
                    }
                }
            }
        }
    }
}

/// Runs the whole pipeline on `objects`; returns the two expositions. Panics are the failure.
fn pipeline(objects: &[Value], now: Timestamp) -> (Vec<u8>, Vec<u8>) {
    for object in objects {
        let _ = backupscope::dialect::map(object);
    }
    let inventory = Inventory::from_objects(objects);
    let center = BackupCenter::new(&inventory, now);
    let status = StatusReport::build(&center);
    serde_json::to_string(&status).expect("status report serializes");
    let doctor = DoctorReport::build(&center, &ClusterFacts::default());
    serde_json::to_string(&doctor).expect("doctor report serializes");
    serde_json::to_string(&EventsReport::build(&center)).expect("events report serializes");
    for vault in center.vaults() {
        if let Ok(d) = describe::describe_vault(&center, &vault.name, Some(&vault.namespace)) {
            serde_json::to_string(&d).expect("vault description serializes");
        }
    }
    for task in center.tasks().take(50) {
        if let Ok(d) = describe::describe_backup(&center, &task.name, Some(&task.namespace)) {
            serde_json::to_string(&d).expect("backup description serializes");
        }
    }
    let collector = Collector::new(CollectOptions::default());
    let render = |format| {
        let mut out = Vec::new();
        let mut encoder = TextEncoder::new(&mut out, format);
        collector.collect(&center, None, &mut encoder);
        encoder.finish();
        out
    };
    (
        render(Format::Prometheus004),
        render(Format::OpenMetrics100),
    )
}

/// A series is its name and label set; the encoder writes labels in declaration order, so
/// equal label sets are equal text.
fn assert_no_duplicate_series(exposition: &[u8], case: usize) {
    let text = std::str::from_utf8(exposition).expect("the exposition is UTF-8");
    let mut seen = HashSet::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let series = line.rsplit_once(' ').map_or(line, |(s, _)| s);
        assert!(
            seen.insert(series),
            "case {case}: duplicate series {series}"
        );
    }
}

#[test]
fn fuzz_dialects_reports_and_exposition() {
    let base = example_objects();
    let now: Timestamp = NOW.parse().expect("now");
    let dir = TempDir::new("fuzz-dialects");
    let mut rng = Lcg(0x5eed_0004);
    let total = cases(120);
    for case in 0..total {
        let mut objects = base.clone();
        mutate(&mut rng, &mut objects);
        let (text, openmetrics) = pipeline(&objects, now);
        assert_no_duplicate_series(&text, case);
        assert_no_duplicate_series(&openmetrics, case);
        assert!(openmetrics.ends_with(b"# EOF\n"), "case {case}: no # EOF");
        if let Err(e) = promtool::check_metrics(&text) {
            let input = dir.write(&format!("{case}-input.json"), json!(objects).to_string());
            panic!("case {case} (input {}): {e}", input.display());
        }
        dir.write(&format!("{case}.prom"), &text);
        dir.write(&format!("{case}.om"), &openmetrics);
    }
    // One Python process parses every case's output with the official client's parsers.
    let verdict = python::run(
        r#"
import glob, os, sys
from prometheus_client.parser import text_string_to_metric_families as text_parse
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
failures, parsed = [], 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.prom")) + glob.glob(os.path.join(sys.argv[1], "*.om"))):
    with open(path, encoding="utf-8", newline="") as f:
        body = f.read()
    try:
        families = list((om_parse if path.endswith(".om") else text_parse)(body))
        if not families:
            failures.append(f"{path}: no families")
        parsed += 1
    except Exception as e:
        failures.append(f"{path}: {type(e).__name__}: {e}"[:500])
print(parsed)
for f in failures[:10]:
    print(f)
sys.exit(1 if failures else 0)
"#,
        &[dir.path().as_os_str()],
    );
    match verdict {
        Ok(out) => assert_eq!(out.trim(), (2 * total).to_string()),
        Err(e) => panic!("prometheus_client rejected an exposition:\n{e}"),
    }
}

/// The mutations above reach the decisions they aim at: without this, a mapper that dropped
/// every mutated object would pass the fuzz run trivially.
#[test]
fn mutated_objects_still_reach_the_model() {
    let base = example_objects();
    let now: Timestamp = NOW.parse().expect("now");
    let untouched = Inventory::from_objects(&base);
    let baseline = BackupCenter::new(&untouched, now).tasks().count();
    assert!(baseline > 10);
    let mut rng = Lcg(0x5eed_0005);
    let mut changed = 0;
    for _ in 0..40 {
        let mut objects = base.clone();
        mutate(&mut rng, &mut objects);
        let inventory = Inventory::from_objects(&objects);
        let center = BackupCenter::new(&inventory, now);
        let status = serde_json::to_value(StatusReport::build(&center)).expect("status");
        let before = serde_json::to_value(StatusReport::build(&BackupCenter::new(&untouched, now)))
            .expect("status");
        if status != before {
            changed += 1;
        }
    }
    assert!(
        changed >= 20,
        "only {changed} of 40 mutations changed the status report"
    );
}
