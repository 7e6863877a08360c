//! Forwarding the backup center's Warning events to Alertmanager (`--alertmanager-url`): each
//! event becomes an Alertmanager v2 alert `BackupCenterWarningEvent`, re-sent while the event
//! recurs (and every resend interval, so a restarted Alertmanager learns it again), resolved
//! once the event has been quiet for the quiet time. Alerts go through a bounded queue per
//! Alertmanager to a sender that retries with backoff (`crate::outbound`); drops and failed
//! sends are counted in `backupscope_alerts_*`.

use crate::center::BackupCenter;
use crate::inventory::Inventory;
use crate::metrics::contract::Declared;
use crate::metrics::families as f;
use crate::model::{Engine, Timestamp};
use crate::outbound::{Endpoint, Retry};
use crate::report::events::{EventEntry, EventsReport};
use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::mpsc;

pub const ALERTNAME: &str = "BackupCenterWarningEvent";
/// Alerts per request to Alertmanager.
const BATCH: usize = 64;

/// One alert as Alertmanager's `POST /api/v2/alerts` takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AmAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: String,
    pub ends_at: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Sent {
    count: u64,
    last: Option<Timestamp>,
    sent_at: Timestamp,
    resolved: bool,
    alert: AmAlert,
}

impl Sent {
    fn of(e: &EventEntry, now: Timestamp, resolved: bool, alert: AmAlert) -> Self {
        Sent {
            count: e.count,
            last: e.last_timestamp,
            sent_at: now,
            resolved,
            alert,
        }
    }
}

/// Decides which alerts to send, from one look at the events to the next.
#[derive(Debug)]
pub struct Tracker {
    quiet: Duration,
    resend: Duration,
    sent: HashMap<(String, String), Sent>,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn alert(e: &EventEntry, ends_at: Timestamp, now: Timestamp) -> AmAlert {
    let mut labels = BTreeMap::from([
        ("alertname".to_string(), ALERTNAME.to_string()),
        ("severity".to_string(), "warning".to_string()),
        ("namespace".to_string(), e.namespace.clone()),
        ("reason".to_string(), e.reason.clone()),
        ("involved_kind".to_string(), e.involved_object.kind.clone()),
        ("involved_name".to_string(), e.involved_object.name.clone()),
    ]);
    if let Some(owner) = &e.belongs_to {
        labels.insert(owner.kind.as_str().to_string(), owner.name.clone());
        if !owner.vault.is_empty() {
            labels.insert("backuplocation".to_string(), owner.vault.clone());
        }
    }
    let annotations = BTreeMap::from([
        (
            "summary".to_string(),
            format!(
                "Warning event {} on {} {}/{}",
                e.reason, e.involved_object.kind, e.namespace, e.involved_object.name
            ),
        ),
        ("message".to_string(), e.message.clone()),
    ]);
    AmAlert {
        labels,
        annotations,
        starts_at: rfc3339(e.first_timestamp.or(e.last_timestamp).unwrap_or(now)),
        ends_at: rfc3339(ends_at),
    }
}

impl Tracker {
    pub fn new(quiet: Duration, resend: Duration) -> Self {
        Tracker {
            quiet,
            resend,
            sent: HashMap::new(),
        }
    }

    /// The alerts to send now for the current events.
    pub fn due(&mut self, events: &[EventEntry], now: Timestamp) -> Vec<AmAlert> {
        let mut out = Vec::new();
        let mut present = std::collections::HashSet::new();
        for e in events {
            let key = (e.namespace.clone(), e.name.clone());
            present.insert(key.clone());
            let last_active = e.last_timestamp.or(e.first_timestamp).unwrap_or(now);
            let quiet_since = now.duration_since(last_active).as_secs_f64();
            let is_quiet = quiet_since > secs(self.quiet);
            let ends_at = last_active
                .checked_add(jiff::SignedDuration::from_secs_f64(secs(self.quiet)))
                .unwrap_or(now);
            let changed = self
                .sent
                .get(&key)
                .is_none_or(|s| (s.count, s.last) != (e.count, e.last_timestamp));
            let previous = self.sent.get(&key).cloned();
            match previous {
                _ if changed && is_quiet => {
                    // Quiet already when first seen (or it recurred long ago): nothing to page,
                    // only a firing alert to end.
                    let a = alert(e, now, now);
                    if previous.is_some_and(|s| !s.resolved) {
                        out.push(a.clone());
                    }
                    self.sent.insert(key, Sent::of(e, now, true, a));
                }
                _ if changed => {
                    let a = alert(e, ends_at, now);
                    out.push(a.clone());
                    self.sent.insert(key, Sent::of(e, now, false, a));
                }
                Some(s) if !s.resolved && is_quiet => {
                    let mut a = s.alert.clone();
                    a.ends_at = rfc3339(now);
                    out.push(a.clone());
                    self.sent.insert(
                        key,
                        Sent {
                            resolved: true,
                            alert: a,
                            sent_at: now,
                            ..s
                        },
                    );
                }
                Some(s)
                    if !s.resolved
                        && now.duration_since(s.sent_at).as_secs_f64() >= secs(self.resend) =>
                {
                    out.push(s.alert.clone());
                    self.sent.insert(key, Sent { sent_at: now, ..s });
                }
                _ => {}
            }
        }
        // An event that is gone (expired, deleted) resolves its alert.
        let gone: Vec<(String, String)> = self
            .sent
            .keys()
            .filter(|k| !present.contains(*k))
            .cloned()
            .collect();
        for key in gone {
            if let Some(s) = self.sent.remove(&key)
                && !s.resolved
            {
                let mut a = s.alert;
                a.ends_at = rfc3339(now);
                out.push(a);
            }
        }
        out
    }
}

/// Counters per Alertmanager, read by the collector.
#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    errors: AtomicU64,
    dropped: AtomicU64,
}

static STATS: LazyLock<Mutex<BTreeMap<String, Arc<Counters>>>> =
    LazyLock::new(|| Mutex::new(BTreeMap::new()));

fn counters(url: &str) -> Arc<Counters> {
    let mut stats = STATS.lock().unwrap_or_else(|e| e.into_inner());
    stats.entry(url.to_string()).or_default().clone()
}

/// The `backupscope_alerts_*` samples: (family, [(alertmanager, value)]); empty when nothing is
/// forwarded, so a scrape without `--alertmanager-url` carries none of them.
pub fn stats() -> Vec<(&'static Declared<1>, Vec<(String, f64)>)> {
    let stats = STATS.lock().unwrap_or_else(|e| e.into_inner());
    if stats.is_empty() {
        return Vec::new();
    }
    let rows = |read: fn(&Counters) -> u64| {
        stats
            .iter()
            .map(|(url, c)| (url.clone(), read(c) as f64))
            .collect()
    };
    vec![
        (&f::ALERTS_SENT, rows(|c| c.sent.load(Ordering::Relaxed))),
        (
            &f::ALERTS_SEND_ERRORS,
            rows(|c| c.errors.load(Ordering::Relaxed)),
        ),
        (
            &f::ALERTS_DROPPED,
            rows(|c| c.dropped.load(Ordering::Relaxed)),
        ),
    ]
}

#[derive(Debug, Clone)]
pub struct ForwardConfig {
    /// Alertmanager base URLs (`http://alertmanager:9093`).
    pub urls: Vec<String>,
    pub quiet: Duration,
    pub resend: Duration,
    /// Alerts waiting per Alertmanager before new ones are dropped.
    pub queue: usize,
    pub every: Duration,
}

/// One Alertmanager: its queue and the task that drains it.
struct Target {
    url: String,
    queue: mpsc::Sender<AmAlert>,
    counters: Arc<Counters>,
}

fn endpoint(base: &str) -> anyhow::Result<Endpoint> {
    let url = format!("{}/api/v2/alerts", base.trim_end_matches('/'));
    let retry = Retry {
        timeout: Duration::from_secs(10),
        max_attempts: 5,
        min_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(10),
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::USER_AGENT,
        HeaderValue::from_static(concat!("backupscope/", env!("CARGO_PKG_VERSION"))),
    );
    Ok(Endpoint::new(&url, "Alertmanager", retry)
        .map_err(|e| anyhow::anyhow!("invalid --alertmanager-url {base:?}: {e}"))?
        .with_headers(headers))
}

async fn drain(endpoint: Endpoint, mut queue: mpsc::Receiver<AmAlert>, counters: Arc<Counters>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(a) => batch.push(a),
                Err(_) => break,
            }
        }
        let n = batch.len() as u64;
        let body = match serde_json::to_vec(&batch) {
            Ok(b) => Bytes::from(b),
            Err(_) => continue,
        };
        match endpoint.send(body).await {
            Ok(_) => {
                counters.sent.fetch_add(n, Ordering::Relaxed);
            }
            Err(failure) => {
                tracing::warn!(url = %endpoint.url(), alerts = n, ?failure, "alerts not delivered to Alertmanager");
                counters.errors.fetch_add(1, Ordering::Relaxed);
                counters.dropped.fetch_add(n, Ordering::Relaxed);
            }
        }
    }
}

/// Starts one sender per Alertmanager and the loop that turns events into alerts; the loop
/// only acts while `may_send` (this replica holds the lease).
pub fn spawn(
    config: ForwardConfig,
    inventory: Arc<RwLock<Inventory>>,
    engine: Option<Engine>,
    may_send: impl Fn() -> bool + Send + 'static,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut tasks = Vec::new();
    let mut targets = Vec::new();
    for base in &config.urls {
        let endpoint = endpoint(base)?;
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let counters = counters(base);
        tasks.push(tokio::spawn(drain(endpoint, rx, counters.clone())));
        targets.push(Target {
            url: base.clone(),
            queue: tx,
            counters,
        });
    }
    let mut tracker = Tracker::new(config.quiet, config.resend);
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(config.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !may_send() {
                continue;
            }
            let now = Timestamp::now();
            let events = match inventory.read() {
                Ok(inv) => EventsReport::build(&BackupCenter::for_engine(&inv, now, engine)).events,
                Err(_) => return,
            };
            for a in tracker.due(&events, now) {
                for t in &targets {
                    if t.queue.try_send(a.clone()).is_err() {
                        tracing::warn!(url = %t.url, "Alertmanager queue full; alert dropped");
                        t.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }));
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::events::ObjectRef;

    fn entry(count: u64, last: &str) -> EventEntry {
        EventEntry {
            namespace: "velero".into(),
            name: "b.1".into(),
            event_type: "Warning".into(),
            reason: "BackupFailed".into(),
            message: "boom".into(),
            count,
            first_timestamp: Some("2026-11-25T08:00:00Z".parse().unwrap()),
            last_timestamp: Some(last.parse().unwrap()),
            source: "backupscope".into(),
            involved_object: ObjectRef {
                kind: "Backup".into(),
                namespace: "velero".into(),
                name: "b".into(),
            },
            belongs_to: None,
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn fires_resends_while_recurring_and_resolves_after_the_quiet_time() {
        let mut t = Tracker::new(Duration::from_secs(600), Duration::from_secs(60));
        let e1 = [entry(1, "2026-11-25T09:00:00Z")];
        let sent = t.due(&e1, at("2026-11-25T09:00:05Z"));
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].labels["alertname"], ALERTNAME);
        assert_eq!(sent[0].labels["involved_name"], "b");
        assert_eq!(sent[0].starts_at, "2026-11-25T08:00:00Z");
        assert_eq!(sent[0].ends_at, "2026-11-25T09:10:00Z");
        // Unchanged and within the resend interval: nothing.
        assert!(t.due(&e1, at("2026-11-25T09:00:30Z")).is_empty());
        // The resend interval passed: the same alert again.
        assert_eq!(t.due(&e1, at("2026-11-25T09:01:10Z")), sent);
        // It recurs: sent at once with a later end.
        let e2 = [entry(2, "2026-11-25T09:02:00Z")];
        let again = t.due(&e2, at("2026-11-25T09:02:01Z"));
        assert_eq!(again[0].ends_at, "2026-11-25T09:12:00Z");
        // Quiet for longer than 10 min: resolved once, then silence.
        let resolved = t.due(&e2, at("2026-11-25T09:12:30Z"));
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].ends_at, "2026-11-25T09:12:30Z");
        assert!(t.due(&e2, at("2026-11-25T09:20:00Z")).is_empty());
    }

    #[test]
    fn old_events_do_not_page_and_vanished_ones_resolve() {
        let mut t = Tracker::new(Duration::from_secs(600), Duration::from_secs(60));
        assert!(
            t.due(
                &[entry(5, "2026-11-24T09:00:00Z")],
                at("2026-11-25T09:00:00Z")
            )
            .is_empty()
        );
        let mut t = Tracker::new(Duration::from_secs(600), Duration::from_secs(60));
        t.due(
            &[entry(1, "2026-11-25T09:00:00Z")],
            at("2026-11-25T09:00:01Z"),
        );
        let gone = t.due(&[], at("2026-11-25T09:00:02Z"));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].ends_at, "2026-11-25T09:00:02Z");
        assert!(t.due(&[], at("2026-11-25T09:00:03Z")).is_empty());
    }
}
