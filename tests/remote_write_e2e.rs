//! RemoteWriter against a real Prometheus remote-write receiver: what is pushed can be queried
//! back, and a series left out of the next push is stale at once.

mod support;

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use backupscope::metrics::{
    remote_write::{RemoteWriteConfig, RemoteWriteSink, RemoteWriter, TimeSeries},
    sink::{Family, MetricSink},
};
use support::prometheus::{Prometheus, PrometheusOptions, Sample};

const BACKUPS: Family = Family::gauge("backupcenter_backups", "Backup tasks by vault and phase.");
const LOCATION_INFO: Family = Family::info(
    "backupcenter_backuplocation_info",
    "Backup locations (vaults).",
);
const RESTARTS: Family = Family::counter(
    "backupcenter_component_pod_restarts_total",
    "Container restarts.",
);

const HOSTILE: &str = "a \"quoted\" back\\slash\nnew line\ttab ✓";

fn collect(with_failed: bool) -> Vec<TimeSeries> {
    let mut sink = RemoteWriteSink::new();
    sink.family(&BACKUPS);
    sink.sample(
        &[("backuplocation", "oss-hz"), ("phase", "Completed")],
        12.0,
    );
    if with_failed {
        sink.sample(&[("backuplocation", "oss-hz"), ("phase", "Failed")], 1.0);
    }
    sink.family(&LOCATION_INFO);
    sink.sample(
        &[
            ("backuplocation", HOSTILE),
            ("provider", "alibabacloud"),
            ("prefix", ""),
        ],
        1.0,
    );
    sink.family(&RESTARTS);
    sink.sample(
        &[("component", "csdr-velero"), ("container", "velero")],
        3.0,
    );
    sink.into_series()
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// (name, phase or backuplocation) → value, for readable assertions.
fn by_name(samples: &[Sample]) -> BTreeMap<(String, String), f64> {
    samples
        .iter()
        .map(|(labels, value)| {
            let detail = labels
                .get("phase")
                .or(labels.get("backuplocation"))
                .or(labels.get("container"));
            (
                (
                    labels["__name__"].clone(),
                    detail.cloned().unwrap_or_default(),
                ),
                *value,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_series_are_queryable_and_vanished_ones_go_stale() {
    let prometheus = Prometheus::start(PrometheusOptions {
        remote_write_receiver: true,
        ..Default::default()
    })
    .await;
    let mut writer = RemoteWriter::new(RemoteWriteConfig {
        timeout: Duration::from_secs(10),
        ..RemoteWriteConfig::new(prometheus.remote_write_url())
    })
    .expect("remote writer");
    let query = r#"{__name__=~"backupcenter_.+"}"#;

    let first_ms = now_ms();
    let outcome = writer
        .push(collect(true), first_ms)
        .await
        .unwrap_or_else(|error| panic!("first push: {error}\n{}", prometheus.log()));
    assert_eq!((outcome.series, outcome.stale_markers), (4, 0));

    let first = by_name(&prometheus.query_at(query, first_ms).await);
    let expected_first: BTreeMap<(String, String), f64> = [
        (("backupcenter_backuplocation_info", HOSTILE), 1.0),
        (("backupcenter_backups", "Completed"), 12.0),
        (("backupcenter_backups", "Failed"), 1.0),
        (("backupcenter_component_pod_restarts_total", "velero"), 3.0),
    ]
    .into_iter()
    .map(|((name, detail), value)| ((name.to_owned(), detail.to_owned()), value))
    .collect();
    assert_eq!(first, expected_first);
    // The empty label value was dropped rather than sent.
    let info = prometheus
        .query_at("backupcenter_backuplocation_info", first_ms)
        .await;
    assert_eq!(info.len(), 1);
    assert!(!info[0].0.contains_key("prefix"), "{info:?}");
    assert_eq!(info[0].0["provider"], "alibabacloud");

    // A later timestamp, as a real push interval would give.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second_ms = now_ms();
    let outcome = writer
        .push(collect(false), second_ms)
        .await
        .unwrap_or_else(|error| panic!("second push: {error}\n{}", prometheus.log()));
    assert_eq!((outcome.series, outcome.stale_markers), (3, 1));

    let second = by_name(&prometheus.query_at(query, second_ms).await);
    let mut expected_second = expected_first.clone();
    expected_second.remove(&("backupcenter_backups".to_owned(), "Failed".to_owned()));
    assert_eq!(
        second, expected_second,
        "the Failed series must be stale, not just old"
    );
    // Its history is still there: staleness ends a series, it does not delete it.
    let history = prometheus
        .query_at(r#"backupcenter_backups{phase="Failed"}"#, first_ms)
        .await;
    assert_eq!(history.len(), 1);
}
