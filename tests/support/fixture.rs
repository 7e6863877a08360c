//! A small fixed set of families with hostile label values, written to any sink; shared by the
//! golden, promtool and real-scrape tests of the exposition.

use backupscope::metrics::sink::{Family, MetricSink};

pub const BACKUPS: Family = Family::gauge(
    "backupcenter_backups",
    "Backup tasks by backup location and phase.",
);
pub const LOCATION_INFO: Family = Family::info(
    "backupcenter_backuplocation_info",
    "Backup locations (vaults) with a backslash \\ and \"quotes\"\nacross two lines.",
);
pub const RESTARTS: Family = Family::counter(
    "backupcenter_component_pod_restarts_total",
    "Container restarts of backup-center component pods.",
);
pub const RESTORES: Family = Family::gauge("backupcenter_restores", "Restore tasks by phase.");
pub const VALUES: Family = Family::gauge("backupscope_test_value", "Values of every kind.");

/// Label values that break naive encoders, each one a distinct series.
pub fn hostile_values() -> Vec<String> {
    let long_prefix = "x".repeat(9_990);
    vec![
        "quote\"inside".to_owned(),
        "back\\slash".to_owned(),
        "trailing backslash\\".to_owned(),
        "new\nline".to_owned(),
        "tab\there".to_owned(),
        "carriage\rreturn".to_owned(),
        "controls \u{1}\u{7}\u{1b}[31m\u{7f} end".to_owned(),
        "nul \0 byte".to_owned(),
        "ユニコード ✓ ë 🙂".to_owned(),
        format!("{long_prefix}0123456789"),
        // Shares the first 9 990 bytes with the previous one: must stay a distinct series.
        format!("{long_prefix}9876543210"),
    ]
}

/// Writes the fixture; returns the number of samples.
pub fn write(sink: &mut impl MetricSink) -> usize {
    let mut samples = 0;
    let mut sample = |sink: &mut dyn MetricSink, labels: &[(&str, &str)], value: f64| {
        sink.sample(labels, value);
        samples += 1;
    };
    sink.family(&BACKUPS);
    sample(
        sink,
        &[("backuplocation", "oss-hz"), ("phase", "Completed")],
        12.0,
    );
    sample(
        sink,
        &[("backuplocation", "oss-hz"), ("phase", "Failed")],
        1.0,
    );
    sink.family(&LOCATION_INFO);
    for value in hostile_values() {
        sample(
            sink,
            &[("backuplocation", &value), ("provider", "alibabacloud")],
            1.0,
        );
    }
    sink.family(&RESTARTS);
    sample(
        sink,
        &[
            ("component", "csdr-velero"),
            ("pod", "csdr-velero-7d9f"),
            ("container", "velero"),
        ],
        3.0,
    );
    sink.family(&RESTORES);
    sink.family(&VALUES);
    for (case, value) in [
        ("zero", 0.0),
        ("negative", -3.0),
        ("timestamp", 1_764_000_000.0),
        ("fraction", 0.25),
        ("tiny", 1.5e-7),
        ("huge", 2.5e300),
        ("nan", f64::NAN),
        ("plus_inf", f64::INFINITY),
        ("minus_inf", f64::NEG_INFINITY),
    ] {
        sample(sink, &[("case", case)], value);
    }
    samples
}
