//! Prometheus remote write 1.0: pushes the same families the scrape endpoint serves to a
//! receiver (Prometheus, Thanos, Mimir, VictoriaMetrics, managed services).
//!
//! - [`RemoteWriteSink`] collects what a collector writes into [`TimeSeries`];
//! - [`proto`] encodes a `WriteRequest` (protobuf) and compresses it (snappy block format);
//! - [`RemoteWriter`] sends it, marks vanished series stale and retries what may be retried.

pub mod proto;
mod sender;

pub use sender::{PushOutcome, RemoteWriteConfig, RemoteWriteError, RemoteWriter};

use super::sink::{Family, MetricSink, capped_label_value};

/// One label of a series.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    pub name: String,
    pub value: String,
}

/// A series and its current value; [`RemoteWriter::push`] stamps it with the push time.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeries {
    /// Sorted by name, unique, without empty values, `__name__` included.
    pub labels: Vec<Label>,
    pub value: f64,
}

impl TimeSeries {
    /// Builds a series as the remote-write spec wants its labels: `__name__` added, values
    /// capped like the text exposition caps them (so both outputs name the same series), empty
    /// values dropped (an empty value means "no such label"), names sorted and unique (the first
    /// of duplicate names wins).
    pub fn new(name: &str, labels: &[(&str, &str)], value: f64) -> TimeSeries {
        let mut sorted = Vec::with_capacity(labels.len() + 1);
        sorted.push(Label {
            name: "__name__".to_owned(),
            value: name.to_owned(),
        });
        sorted.extend(
            labels
                .iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| Label {
                    name: (*name).to_owned(),
                    value: capped_label_value(value).into_owned(),
                }),
        );
        // Stable, so the first of duplicate names stays first and survives the dedup.
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        sorted.dedup_by(|later, earlier| later.name == earlier.name);
        TimeSeries {
            labels: sorted,
            value,
        }
    }
}

/// A [`MetricSink`] that keeps every sample as a [`TimeSeries`].
#[derive(Debug, Default)]
pub struct RemoteWriteSink {
    name: Option<&'static str>,
    series: Vec<TimeSeries>,
}

impl RemoteWriteSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// The series collected so far, in the order they were written.
    pub fn into_series(self) -> Vec<TimeSeries> {
        self.series
    }
}

impl MetricSink for RemoteWriteSink {
    fn family(&mut self, family: &Family) {
        self.name = Some(family.name);
    }

    fn sample(&mut self, labels: &[(&str, &str)], value: f64) {
        let Some(name) = self.name else {
            debug_assert!(false, "sample written before any family");
            return;
        };
        self.series.push(TimeSeries::new(name, labels, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::sink::MAX_LABEL_VALUE_BYTES;

    fn pairs(series: &TimeSeries) -> Vec<(&str, &str)> {
        series
            .labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect()
    }

    #[test]
    fn labels_are_sorted_unique_and_never_empty() {
        let long = "z".repeat(2000);
        let series = TimeSeries::new(
            "backupcenter_backups",
            &[
                ("phase", "Failed"),
                ("backuplocation", "oss"),
                ("schedule", ""),
                ("phase", "x"),
                ("a", &long),
            ],
            2.0,
        );
        let got = pairs(&series);
        let names: Vec<&str> = got.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["__name__", "a", "backuplocation", "phase"]);
        assert_eq!(got[0].1, "backupcenter_backups");
        assert_eq!(got[3].1, "Failed");
        assert!(got[1].1.len() <= MAX_LABEL_VALUE_BYTES);
    }

    #[test]
    fn the_sink_names_samples_after_their_family() {
        const INFO: Family = Family::info("backupcenter_backuplocation_info", "Vaults.");
        const RESTARTS: Family = Family::counter("backupcenter_component_pod_restarts_total", "R.");
        let mut sink = RemoteWriteSink::new();
        sink.family(&INFO);
        sink.sample(&[("backuplocation", "oss")], 1.0);
        sink.family(&RESTARTS);
        sink.sample(&[], 4.0);
        let series = sink.into_series();
        assert_eq!(
            pairs(&series[0]),
            [
                ("__name__", "backupcenter_backuplocation_info"),
                ("backuplocation", "oss")
            ]
        );
        assert_eq!(
            pairs(&series[1]),
            [("__name__", "backupcenter_component_pod_restarts_total")]
        );
        assert_eq!(series[1].value, 4.0);
    }
}
