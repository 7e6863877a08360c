//! Bad input never panics: every example object is mutated at random (fields removed, replaced
//! by values of the wrong type, 10 000-character strings, control characters, unknown phases)
//! and pushed through the whole pipeline: dialect, inventory, center, status report in every
//! format, describe, and the metrics collector.

use backupscope::center::BackupCenter;
use backupscope::cli::output::Format;
use backupscope::inventory::Inventory;
use backupscope::metrics::collector::{CollectOptions, Collector};
use backupscope::metrics::exposition::{self, TextEncoder};
use backupscope::report::StatusReport;
use backupscope::report::describe;
use serde_json::{Value, json};
use std::path::Path;

#[path = "support/lcg.rs"]
mod lcg;
use lcg::Lcg;

fn example_objects() -> Vec<Value> {
    let mut out = Vec::new();
    for dir in ["examples/ack-cluster", "examples/velero-cluster"] {
        let mut files: Vec<_> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
            .expect("examples")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("read example");
            let list: Value = serde_norway::from_str(&text).expect("example YAML");
            if let Some(items) = list.get("items").and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            }
        }
    }
    out
}

fn hostile_value(rng: &mut Lcg) -> Value {
    match rng.index(9) {
        0 => Value::Null,
        1 => json!(-1),
        2 => json!(1e308),
        3 => json!(["a", 1, null]),
        4 => json!({"x": {"y": []}}),
        5 => json!("x".repeat(10_000)),
        6 => json!("quote\" backslash\\ newline\n tab\t nul\u{0} esc\u{1b}[31m 漢字 🚀"),
        7 => json!("Exploding"),
        _ => json!(true),
    }
}

/// Replaces or removes a random node of the object tree (never the apiVersion/kind routing).
fn mutate(v: &mut Value, rng: &mut Lcg, depth: usize) {
    let Value::Object(map) = v else { return };
    let keys: Vec<String> = map
        .keys()
        .filter(|k| depth > 0 || (*k != "apiVersion" && *k != "kind"))
        .cloned()
        .collect();
    if keys.is_empty() {
        return;
    }
    let key = &keys[rng.index(keys.len())];
    match rng.index(4) {
        0 => {
            map.remove(key);
        }
        1 => {
            map.insert(key.clone(), hostile_value(rng));
        }
        _ => {
            if let Some(child) = map.get_mut(key) {
                match child {
                    Value::Object(_) => mutate(child, rng, depth + 1),
                    Value::Array(items) if !items.is_empty() => {
                        let i = rng.index(items.len());
                        mutate(&mut items[i], rng, depth + 1);
                    }
                    _ => *child = hostile_value(rng),
                }
            }
        }
    }
}

fn pipeline(objects: &[Value]) {
    let inventory = Inventory::from_objects(objects);
    let now = "2026-11-25T09:00:00Z".parse().expect("time");
    let center = BackupCenter::new(&inventory, now);
    let report = StatusReport::build(&center);
    for format in [Format::Table, Format::Json, Format::Yaml] {
        report.render(format, true).expect("render");
    }
    for t in center.tasks().take(20) {
        let d = describe::describe_backup(&center, &t.name, Some(&t.namespace)).expect("found");
        d.render(now, Format::Table).expect("render");
    }
    for v in center.vaults() {
        let d = describe::describe_vault(&center, &v.name, Some(&v.namespace)).expect("found");
        d.render(now, Format::Table).expect("render");
    }
    let collector = Collector::new(CollectOptions::default());
    for format in [
        exposition::Format::Prometheus004,
        exposition::Format::OpenMetrics100,
    ] {
        let mut buf = Vec::new();
        let mut encoder = TextEncoder::new(&mut buf, format);
        collector.collect(&center, None, &mut encoder);
        encoder.finish();
        assert!(std::str::from_utf8(&buf).is_ok());
    }
    assert_eq!(
        inventory.task_index.counts,
        inventory.rebuilt_task_index().counts
    );
}

#[test]
fn randomly_broken_objects_never_panic() {
    let base = example_objects();
    assert!(base.len() > 100, "examples loaded");
    let mut rng = Lcg(2026);
    for _round in 0..40 {
        let mut objects = base.clone();
        for o in objects.iter_mut() {
            for _ in 0..rng.index(4) {
                mutate(o, &mut rng, 0);
            }
        }
        pipeline(&objects);
    }
}

#[test]
fn huge_names_everywhere() {
    let long = "n".repeat(10_000);
    let objects = vec![
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "BackupLocation",
            "metadata": {"name": long, "namespace": long},
            "spec": {"objectStorage": {"bucket": long, "prefix": long}, "config": {"region": long, "network": long}},
            "status": {"phase": long, "message": long}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationBackup",
            "metadata": {"name": long, "namespace": long, "labels": {"csdr/schedule-name": long}},
            "spec": {"storageLocation": long, "backupType": long},
            "status": {"phase": "Failed", "message": long}}),
        json!({"apiVersion": "velero.io/v1", "kind": "Schedule",
            "metadata": {"name": long, "namespace": long}, "spec": {"schedule": long}}),
    ];
    pipeline(&objects);
}
