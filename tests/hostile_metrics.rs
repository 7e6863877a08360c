//! A hostile snapshot: every field backupscope turns into a label value (names, namespaces,
//! buckets, regions, messages, labels, cron strings, container names, reasons) holds quotes,
//! backslashes, newlines, tabs, control characters, unicode, or 10 000 characters. Served by
//! the real binary, both exposition formats must stay valid: promtool passes the 0.0.4 text, a
//! real Prometheus scrapes the OpenMetrics text and receives the same series by remote write,
//! and no label value is longer than the cap.

mod support;

use std::{
    collections::{BTreeMap, BTreeSet},
    ffi::OsStr,
    time::Duration,
};

use backupscope::metrics::sink::{MAX_LABEL_VALUE_BYTES, capped_label_value};
use serde_json::{Value, json};
use support::{
    http,
    prometheus::{Prometheus, PrometheusOptions, ScrapeTarget, free_port},
    promtool,
    serve::Serve,
    tempdir::TempDir,
};

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const WAIT: Duration = Duration::from_secs(30);
const LONG_CHARS: usize = 10_000;

/// A value under the cap with every character class that breaks naive encoders.
fn short(tag: &str) -> String {
    format!(
        "{tag} \"q\" back\\slash\\ new\nline\ttab\rcr nul\0 esc\u{1b}[31m del\u{7f} ✓ ユニコード 🙂 ë"
    )
}

/// A 10 000-char value of the same characters; `tag` first, so values differ early.
fn long(tag: &str) -> String {
    let unit = "\"\\\n\té✓🙂x";
    format!("{tag}:")
        .chars()
        .chain(unit.chars().cycle())
        .take(LONG_CHARS)
        .collect()
}

/// Two 10 000-char values that share all but their last ten characters: capped, they must
/// still name two series.
fn twins() -> (String, String) {
    let stem: String = long("twin").chars().take(LONG_CHARS - 10).collect();
    (format!("{stem}AAAAAAAAAA"), format!("{stem}BBBBBBBBBB"))
}

fn list(items: Vec<Value>) -> Value {
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}

fn meta(name: &str, namespace: &str, labels: Value) -> Value {
    json!({"name": name, "namespace": namespace, "labels": labels,
           "creationTimestamp": "2026-11-20T01:00:00Z"})
}

/// ACK objects in `csdr` (written as YAML), Velero objects in a hostile namespace (as JSON).
fn write_snapshot(dir: &TempDir) {
    let csdr = "csdr";
    let vault = long("vault");
    let schedule = long("schedule");
    let (twin_a, twin_b) = twins();
    let ack = vec![
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "BackupLocation",
            "metadata": meta(&vault, csdr, json!({})),
            "spec": {"provider": short("provider"),
                     "objectStorage": {"bucket": long("bucket"), "prefix": short("prefix")},
                     "config": {"region": long("region"), "network": short("Net")}},
            "status": {"phase": "Unavailable", "message": long("message"),
                       "lastValidationTime": "2026-11-25T08:58:40Z"}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "BackupLocation",
            "metadata": meta(&short("vault"), csdr, json!({})),
            "spec": {"provider": long("provider"), "objectStorage": {"bucket": short("bucket")}},
            "status": {"phase": long("phase"), "lastValidationTime": long("time")}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationBackup",
            "metadata": meta(&long("backup"), csdr, json!({"csdr/schedule-name": schedule})),
            "spec": {"storageLocation": vault, "backupType": "AppAndPvBackup",
                     "dataType": long("datatype")},
            "status": {"phase": "Failed", "message": format!("VaultError: {}", long("msg")),
                       "completionTimestamp": "2026-11-25T06:30:05Z"}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationBackup",
            "metadata": meta(&twin_a, csdr, json!({"csdr/schedule-name": short("sched")})),
            "spec": {"storageLocation": short("vault"), "backupType": long("type")},
            "status": {"phase": "PartiallyFailed", "message": short("partially completed"),
                       "completionTimestamp": "2026-11-25T06:30:05Z"}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationBackup",
            "metadata": meta(&twin_b, csdr, json!({})),
            "spec": {"storageLocation": short("vault"), "backupType": "AppBackup"},
            "status": {"phase": "Failed", "message": long("no class")}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationBackup",
            "metadata": meta(&short("running"), csdr, json!({})),
            "spec": {"storageLocation": long("nowhere")},
            "status": {"phase": "InProgress", "startTimestamp": "2026-11-25T08:00:00Z"}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationBackup",
            "metadata": {"name": short("odd"), "namespace": csdr, "annotations": {
                "csdr.alibabacloud.com/backuplocations":
                    json!({"name": short("annotated vault")}).to_string()}},
            "status": {"phase": long("phase"), "startTimestamp": long("time")}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationBackup",
            "metadata": meta(&short("done"), csdr, json!({"csdr/schedule-name": schedule})),
            "spec": {"storageLocation": vault, "backupType": "AppBackup"},
            "status": {"phase": "Completed", "completionTimestamp": "2026-11-25T04:00:00Z"}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "BackupSchedule",
            "metadata": meta(&schedule, csdr, json!({})),
            "spec": {"schedule": long("cron"), "paused": "true",
                     "template": {"storageLocation": vault}}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "BackupSchedule",
            "metadata": meta(&short("sched"), csdr, json!({})),
            "spec": {"schedule": "1 4 * * *", "template": {"storageLocation": short("vault")}}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationRestore",
            "metadata": meta(&long("restore"), csdr, json!({})),
            "spec": {"backupName": long("backupname")},
            "status": {"phase": "Failed", "message": format!("RestoreError: {}", long("m"))}}),
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationRestore",
            "metadata": meta(&short("restore"), csdr, json!({})),
            "spec": {"backupName": short("backupname")},
            "status": {"phase": "PartiallyFailed"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta("csdr-velero", csdr, json!({"x": long("label")})),
            "spec": {"replicas": 1, "selector": {"matchLabels": {"component": "csdr"}},
                     "template": {"spec": {"containers": [
                         {"name": long("container"), "image": long("image"),
                          "resources": {"requests": {"cpu": "500m", "memory": "128Mi"},
                                        "limits": {"cpu": long("cpu"), "memory": "2Gi"}}},
                         {"name": short("sidecar"), "image": short("image"),
                          "resources": {"requests": {"cpu": "1e3", "memory": short("mem")}}}]}}},
            "status": {"readyReplicas": 1, "availableReplicas": 1}}),
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": meta(&format!("csdr-velero-{}", long("pod")), csdr,
                             json!({"component": "csdr", "other": long("label")})),
            "spec": {"nodeName": long("node")},
            "status": {"phase": short("Running"), "containerStatuses": [
                {"name": long("container"), "ready": true, "restartCount": 3,
                 "state": {"waiting": {"reason": long("waiting")}},
                 "lastState": {"terminated": {"reason": long("reason"), "exitCode": 137,
                                              "finishedAt": "2026-11-24T23:09:47Z"}}},
                {"name": short("sidecar"), "ready": true, "restartCount": 1,
                 "lastState": {"terminated": {"reason": short("OOMKilled"), "exitCode": -1}}}]}}),
        json!({"apiVersion": "v1", "kind": "Event", "type": "Warning",
            "metadata": meta(&long("event"), csdr, json!({})),
            "involvedObject": {"kind": long("kind"), "name": long("involved")},
            "reason": long("reason"), "message": long("message"), "count": 7}),
        json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "type": long("type"),
            "metadata": meta(&short("event"), csdr, json!({})),
            "regarding": {"kind": short("kind"), "name": short("involved")},
            "reason": short("reason"), "note": short("note"), "series": {"count": 2}}),
    ];
    let yaml = serde_norway::to_string(&list(ack)).expect("YAML of the ACK objects");
    dir.write("ack.yaml", yaml);

    let ns = long("namespace");
    let bsl = short("bsl");
    let velero_schedule = long("velero schedule");
    let velero = vec![
        json!({"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
            "metadata": meta(&bsl, &ns, json!({})),
            "spec": {"provider": long("provider"), "default": true,
                     "objectStorage": {"bucket": long("bucket"), "prefix": long("prefix")},
                     "config": {"region": short("region")}},
            "status": {"phase": "Available", "lastValidationTime": "2026-11-25T08:59:41Z"}}),
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": meta(&long("velero backup"), &ns, json!({
                "velero.io/schedule-name": velero_schedule,
                "velero.io/storage-location": bsl})),
            "spec": {"snapshotVolumes": true},
            "status": {"phase": "FailedValidation",
                       "validationErrors": [long("validation"), short("validation")]}}),
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": meta(&short("partial"), &ns, json!({
                "velero.io/schedule-name": velero_schedule})),
            "spec": {"storageLocation": bsl, "defaultVolumesToFsBackup": true},
            "status": {"phase": "PartiallyFailed", "errors": 2,
                       "csiVolumeSnapshotsAttempted": 1, "failureReason": long("failure"),
                       "completionTimestamp": "2026-11-25T02:00:00Z"}}),
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": meta(&short("new"), &ns, json!({})),
            "spec": {"storageLocation": long("location")},
            "status": {}}),
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": meta(&short("ok"), &ns, json!({"velero.io/schedule-name": velero_schedule})),
            "spec": {"storageLocation": bsl},
            "status": {"phase": "Completed", "completionTimestamp": "2026-11-25T01:00:00Z"}}),
        json!({"apiVersion": "velero.io/v1", "kind": "Schedule",
            "metadata": meta(&velero_schedule, &ns, json!({})),
            "spec": {"schedule": "@every 6h", "paused": "yes",
                     "template": {"storageLocation": bsl}}}),
        json!({"apiVersion": "velero.io/v1", "kind": "Schedule",
            "metadata": meta(&short("bad cron"), &ns, json!({})),
            "spec": {"schedule": short("cron"), "template": {"storageLocation": long("loc")}}}),
        json!({"apiVersion": "velero.io/v1", "kind": "Restore",
            "metadata": meta(&long("velero restore"), &ns, json!({})),
            "spec": {"backupName": long("backup name"), "scheduleName": long("schedule name")},
            "status": {"phase": "PartiallyFailed", "errors": 1}}),
        json!({"apiVersion": "velero.io/v1", "kind": "PodVolumeBackup",
            "metadata": meta(&long("pvb"), &ns, json!({"velero.io/backup-name": short("partial")})),
            "status": {"phase": long("phase")}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta("velero", &ns, json!({})),
            "spec": {"selector": {"matchLabels": {"deploy": "velero"}},
                     "template": {"spec": {"containers": [
                         {"name": long("velero container"),
                          "resources": {"limits": {"memory": "512Mi"}}}]}}},
            "status": {"readyReplicas": 0}}),
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": meta(&format!("velero-{}", short("pod")), &ns,
                             json!({"deploy": "velero"})),
            "spec": {"nodeName": short("node")},
            "status": {"phase": long("phase"), "containerStatuses": [
                {"name": long("velero container"), "restartCount": 1,
                 "lastState": {"terminated": {"reason": short("OOM\"Killed"), "exitCode": 137}}}]}}),
        json!({"apiVersion": "v1", "kind": "Event", "type": "Warning",
            "metadata": meta(&short("event"), &ns, json!({})),
            "involvedObject": {"kind": "Pod", "name": short("pod")},
            "reason": short("Unhealthy"), "message": long("message"), "count": 4}),
    ];
    let json = serde_json::to_string_pretty(&list(velero)).expect("JSON of the Velero objects");
    dir.write("velero.json", json);
}

/// One sample line of the 0.0.4 text: its name, unescaped labels and value.
type ParsedSample = (String, Vec<(String, String)>, String);

/// Parses a sample line strictly (`name{label="value",...} value`); `Err` says what is wrong.
fn parse_sample(line: &str) -> Result<ParsedSample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = line[..name_end].to_owned();
    let mut rest = line[name_end..].chars().peekable();
    let mut labels = Vec::new();
    if rest.peek() == Some(&'{') {
        rest.next();
        loop {
            if rest.peek() == Some(&'}') {
                rest.next();
                break;
            }
            let label: String = rest.by_ref().take_while(|c| *c != '=').collect();
            if rest.next() != Some('"') {
                return Err(format!("label {label:?} has no opening quote"));
            }
            let mut value = String::new();
            loop {
                match rest.next().ok_or("unterminated label value")? {
                    '"' => break,
                    '\\' => value.push(match rest.next() {
                        Some('n') => '\n',
                        Some('\\') => '\\',
                        Some('"') => '"',
                        other => return Err(format!("bad escape \\{other:?}")),
                    }),
                    '\n' => return Err("raw newline in a label value".to_owned()),
                    c => value.push(c),
                }
            }
            labels.push((label, value));
            match rest.next() {
                Some(',') => {}
                Some('}') => break,
                other => return Err(format!("expected , or }} after a label, got {other:?}")),
            }
        }
    }
    if rest.next() != Some(' ') {
        return Err("no space before the value".to_owned());
    }
    let value: String = rest.collect();
    if value.is_empty() || value.contains(' ') {
        return Err(format!("bad value {value:?}"));
    }
    Ok((name, labels, value))
}

/// The sample lines of an exposition, parsed; panics on a line that does not parse.
fn samples(text: &str) -> Vec<ParsedSample> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            parse_sample(line).unwrap_or_else(|error| panic!("bad sample line ({error}): {line}"))
        })
        .collect()
}

fn assert_capped(value: &str, original: &str) {
    assert!(
        value.len() <= MAX_LABEL_VALUE_BYTES,
        "{} bytes",
        value.len()
    );
    let (prefix, hash) = value
        .rsplit_once('~')
        .unwrap_or_else(|| panic!("no ~hash suffix: {value:?}"));
    assert!(original.starts_with(prefix), "not a prefix of the original");
    assert!(prefix.len() > MAX_LABEL_VALUE_BYTES / 2, "kept too little");
    assert!(
        hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "bad hash {hash:?}"
    );
}

/// The label sets `selector` selects, without the labels a scrape adds.
async fn series_without_target(
    prometheus: &Prometheus,
    selector: &str,
) -> BTreeSet<BTreeMap<String, String>> {
    prometheus
        .query(selector)
        .await
        .into_iter()
        .map(|(mut labels, _)| {
            labels.remove("job");
            labels.remove("instance");
            labels
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_snapshot_stays_valid_in_both_formats_and_through_prometheus() {
    let dir = TempDir::new("hostile-snapshot");
    write_snapshot(&dir);
    // Prometheus scrapes serve and receives its remote write, so each needs the other's
    // address first: serve gets a port that was free a moment ago.
    let serve_address = format!("127.0.0.1:{}", free_port());
    let prometheus = Prometheus::start(PrometheusOptions {
        targets: vec![ScrapeTarget {
            job: "backupscope".to_owned(),
            address: serve_address.clone(),
            metrics_path: "/metrics".to_owned(),
            settings: String::new(),
        }],
        scrape_interval: Duration::from_secs(1),
        remote_write_receiver: true,
    })
    .await;
    let remote_write_url = prometheus.remote_write_url();
    let serve = Serve::start(&[
        OsStr::new("--snapshot"),
        dir.path().as_os_str(),
        OsStr::new("--listen"),
        OsStr::new(&serve_address),
        OsStr::new("--remote-write-url"),
        OsStr::new(&remote_write_url),
        OsStr::new("--remote-write-interval"),
        OsStr::new("1s"),
    ]);
    assert_eq!(serve.address(), serve_address);

    // 0.0.4: promtool's verdict, then every label value within the cap, no series twice.
    let text = http::get(&serve.url("/metrics"), &[]).await;
    assert_eq!(text.status, 200, "{}", serve.stderr());
    assert_eq!(text.header("content-type"), Some(TEXT));
    if let Err(complaint) = promtool::check_metrics(&text.body) {
        panic!("{complaint}");
    }
    let text_samples = samples(&text.text());
    let mut seen = BTreeSet::new();
    for (name, labels, _) in &text_samples {
        for (label, value) in labels {
            assert!(
                value.len() <= MAX_LABEL_VALUE_BYTES,
                "{name} {label}: {} bytes",
                value.len()
            );
        }
        assert!(
            seen.insert((name, labels)),
            "duplicate series {name}{labels:?}"
        );
    }
    let names: BTreeSet<&str> = text_samples.iter().map(|(n, _, _)| n.as_str()).collect();
    for family in [
        "backupcenter_backuplocation_info",
        "backupcenter_backup_failed_info",
        "backupcenter_backup_start_timestamp_seconds",
        "backupcenter_schedule_info",
        "backupcenter_restore_failed_info",
        "backupcenter_component_pod_info",
        "backupcenter_component_pod_last_termination_info",
        "backupcenter_component_resource_limits",
        "backupcenter_warning_events_total",
    ] {
        assert!(names.contains(family), "{family} missing from the output");
    }

    // OpenMetrics: the same samples, closed by # EOF.
    let openmetrics = http::get(
        &serve.url("/metrics"),
        &[("accept", "application/openmetrics-text; version=1.0.0")],
    )
    .await;
    assert_eq!(openmetrics.header("content-type"), Some(OPENMETRICS));
    let om_text = openmetrics.text();
    assert!(om_text.ends_with("\n# EOF\n"), "no final # EOF");
    let om_samples = samples(om_text.trim_end_matches("# EOF\n"));
    assert_eq!(om_samples.len(), text_samples.len());

    // A real Prometheus scrapes it (2.x asks for OpenMetrics first).
    prometheus
        .wait_up("backupscope", WAIT, "hostile snapshot")
        .await;
    let scraped = prometheus
        .query(r#"scrape_samples_scraped{job="backupscope"}"#)
        .await;
    assert_eq!(
        scraped.first().map(|(_, v)| *v),
        Some(om_samples.len() as f64)
    );
    // It parsed OpenMetrics: only that format has the info type.
    let metadata = prometheus
        .api("/api/v1/metadata?metric=backupcenter_backuplocation")
        .await;
    assert_eq!(
        metadata["backupcenter_backuplocation"][0]["type"], "info",
        "{metadata}"
    );

    // Label values come back exactly: short hostile ones intact, long ones capped.
    let vaults: BTreeSet<String> = prometheus
        .query(r#"backupcenter_backuplocation_info{job="backupscope"}"#)
        .await
        .into_iter()
        .map(|(labels, _)| labels["backuplocation"].clone())
        .collect();
    let long_vault = long("vault");
    let capped_vault = capped_label_value(&long_vault).into_owned();
    assert_capped(&capped_vault, &long_vault);
    assert_eq!(
        vaults,
        BTreeSet::from([capped_vault, short("vault"), short("bsl")])
    );

    let failed: BTreeMap<String, BTreeMap<String, String>> = prometheus
        .query(r#"backupcenter_backup_failed_info{job="backupscope"}"#)
        .await
        .into_iter()
        .map(|(labels, _)| (labels["backup"].clone(), labels))
        .collect();
    let (twin_a, twin_b) = twins();
    let expected_backups: BTreeSet<String> =
        [long("backup"), twin_a, twin_b, long("velero backup")]
            .iter()
            .map(|name| capped_label_value(name).into_owned())
            .chain([short("partial")])
            .collect();
    assert_eq!(
        failed.keys().cloned().collect::<BTreeSet<_>>(),
        expected_backups,
        "the twins share 9 990 characters and must stay two series"
    );
    let first = &failed[capped_label_value(&long("backup")).as_ref()];
    assert_eq!(first["reason"], "VaultError");
    assert_eq!(first["phase"], "Failed");
    assert_capped(&first["from_schedule"], &long("schedule"));

    // Every label of every series within the cap, scraped or pushed.
    for selector in [
        r#"{__name__=~".+", job="backupscope"}"#,
        r#"{__name__=~".+", job=""}"#,
    ] {
        let all = prometheus.query(selector).await;
        assert!(all.len() > 50, "{selector}: only {} series", all.len());
        for (labels, _) in &all {
            for (label, value) in labels {
                assert!(
                    value.len() <= MAX_LABEL_VALUE_BYTES,
                    "{selector} {label}: {} bytes",
                    value.len()
                );
            }
        }
    }

    // Remote write names exactly the series the scrape does.
    let scraped_series = series_without_target(
        &prometheus,
        r#"{__name__=~"backupcenter_.+", job="backupscope"}"#,
    )
    .await;
    let pushed_selector = r#"{__name__=~"backupcenter_.+", job=""}"#;
    let pushed = prometheus
        .wait_for(pushed_selector, WAIT, |r| r.len() == scraped_series.len())
        .await;
    assert_eq!(pushed.len(), scraped_series.len(), "{}", serve.stderr());
    assert_eq!(
        series_without_target(&prometheus, pushed_selector).await,
        scraped_series
    );
    drop(serve);
}
