//! Whether each source stream works: `backupscope_source_up`, `backupscope_watch_events_total`
//! and the readiness of `serve`.

use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceState {
    pub up: bool,
    /// The first complete list has been applied.
    pub synced: bool,
    /// The first list has been applied or has failed: the source has said what it can.
    pub settled: bool,
    pub events: u64,
    /// Why the source is down; empty when up.
    pub last_error: String,
}

#[derive(Debug, Default)]
pub struct SourceHealth {
    states: Mutex<BTreeMap<String, SourceState>>,
}

impl SourceHealth {
    pub fn new() -> Self {
        Self::default()
    }

    fn with(&self, source: &str, f: impl FnOnce(&mut SourceState)) {
        if let Ok(mut states) = self.states.lock() {
            // Called for every watch event: look up before allocating a key.
            match states.get_mut(source) {
                Some(state) => f(state),
                None => f(states.entry(source.to_string()).or_default()),
            }
        }
    }

    pub fn register(&self, source: &str) {
        self.with(source, |_| {});
    }

    pub fn up(&self, source: &str) {
        self.with(source, |s| {
            s.up = true;
            s.last_error.clear();
        });
    }

    /// Marks the source down; logs only when the reason changes, so a retry loop does not
    /// flood the log with the same line.
    pub fn down(&self, source: &str, error: &str) {
        self.with(source, |s| {
            if s.up || s.last_error != error {
                log_down(source, error);
            }
            s.up = false;
            s.settled = true;
            s.last_error = error.to_string();
        });
    }

    /// Marks the source down without settling it: it has not yet said what it can (discovery
    /// that cannot reach the API server), so readiness keeps waiting for it. Logs like
    /// [`down`](Self::down).
    pub fn failing(&self, source: &str, error: &str) {
        self.with(source, |s| {
            if s.up || s.last_error != error {
                log_down(source, error);
            }
            s.up = false;
            s.last_error = error.to_string();
        });
    }

    /// An event arrived: the stream works.
    pub fn event(&self, source: &str) {
        self.events(source, 1);
    }

    /// `n` events arrived together.
    pub fn events(&self, source: &str, n: u64) {
        self.with(source, |s| {
            s.events += n;
            if !s.up {
                s.up = true;
                s.last_error.clear();
            }
        });
    }

    pub fn synced(&self, source: &str) {
        self.with(source, |s| {
            s.synced = true;
            s.settled = true;
            s.up = true;
        });
    }

    pub fn snapshot(&self) -> BTreeMap<String, SourceState> {
        self.states.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Readiness: every registered source has completed its first list, or failed it. A
    /// resource the cluster refuses (403) must not keep the whole exporter unready, which
    /// would hide every other metric from a Service-based scrape; it shows as
    /// `backupscope_source_up 0` instead, and recovers by itself.
    pub fn all_settled(&self) -> bool {
        self.states
            .lock()
            .map(|s| s.values().all(|st| st.settled))
            .unwrap_or(false)
    }
}

/// The reason quotes what the API server said: terminal-safe and capped in the log.
fn log_down(source: &str, error: &str) {
    tracing::warn!(
        source,
        error = ?crate::cli::output::text(error),
        "source down"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_then_event_is_up_again() {
        let h = SourceHealth::new();
        h.register("csdr/backups");
        h.register("csdr/pods");
        assert!(!h.all_settled());
        h.down("csdr/backups", "forbidden");
        assert_eq!(h.snapshot()["csdr/backups"].last_error, "forbidden");
        h.synced("csdr/pods");
        // Down on its first attempt: settled, so it does not block readiness.
        assert!(h.all_settled());
        h.event("csdr/backups");
        h.synced("csdr/backups");
        let s = &h.snapshot()["csdr/backups"];
        assert!(s.up && s.synced && s.last_error.is_empty());
        assert!(h.all_settled());
    }

    #[test]
    fn failing_keeps_readiness_waiting() {
        let h = SourceHealth::new();
        h.register("discovery");
        h.failing("discovery", "API discovery failed: connection refused");
        let s = &h.snapshot()["discovery"];
        assert!(!s.up && !s.settled);
        assert_eq!(s.last_error, "API discovery failed: connection refused");
        assert!(!h.all_settled());
        h.up("discovery");
        h.synced("discovery");
        assert!(h.all_settled());
        assert!(h.snapshot()["discovery"].last_error.is_empty());
    }
}
