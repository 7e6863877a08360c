//! Watch streams: newline-delimited JSON events in a chunked response.
//!
//! A stream first sends what it owes from before it was registered (synthetic ADDED events
//! or replayed history), then live events from its bounded channel, BOOKMARKs when idle,
//! and ends at its timeout, when the server drops all watches, or when the store evicted it
//! for falling behind.

use crate::server::Shared;
use crate::store::{Delivery, EventKind, Filter, WatchStart};
use axum::body::{Body, Bytes};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// Bytes gathered into one HTTP chunk when events are waiting; one write per event would
/// cap throughput well below what benchmarks need.
const CHUNK_BYTES: usize = 64 * 1024;

/// Annotation on the BOOKMARK that ends the initial events of a streaming list.
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// A watch request, parsed.
pub(crate) struct WatchRequest {
    pub(crate) resource: usize,
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) filter: Arc<Filter>,
    /// `None`: start now with synthetic ADDED events for current objects.
    pub(crate) from: Option<u64>,
    /// `sendInitialEvents=true`: end the synthetic ADDED events with a marked BOOKMARK.
    pub(crate) send_initial_events: bool,
    pub(crate) bookmarks: bool,
    pub(crate) timeout: Duration,
    pub(crate) metadata_only: bool,
}

enum Pending {
    Added(Arc<Value>),
    Replay(Delivery),
    InitialEnd(u64),
}

struct WatchStream {
    shared: Arc<Shared>,
    resource: usize,
    id: u64,
    api_version: String,
    kind: String,
    pending: VecDeque<Pending>,
    rx: mpsc::Receiver<Delivery>,
    epoch: watch::Receiver<u64>,
    deadline: Instant,
    bookmarks: Option<Interval>,
    metadata_only: bool,
    done: bool,
}

impl Drop for WatchStream {
    fn drop(&mut self) {
        self.shared
            .store_mut()
            .remove_watcher(self.resource, self.id);
    }
}

/// Opens a watch and returns its response body.
pub(crate) fn open(shared: Arc<Shared>, req: WatchRequest) -> Body {
    shared
        .counters
        .watches_opened
        .fetch_add(1, Ordering::Relaxed);
    // Subscribe before registering so a concurrent drop_watches cannot be missed.
    let epoch = shared.epoch.subscribe();
    let buffer = shared.watch_buffer.load(Ordering::Relaxed);
    let bookmark_interval = shared.faults().bookmark_interval;
    let started =
        shared
            .store_mut()
            .start_watch(req.resource, req.filter.clone(), req.from, buffer);
    let start = match started {
        Ok(start) => start,
        Err(err) => {
            // The apiserver answers 200 and reports an expired version inside the stream;
            // clients only relist on this in-stream 410.
            shared
                .counters
                .watch_events_sent
                .fetch_add(1, Ordering::Relaxed);
            let line = event_line(
                "ERROR",
                &serde_json::to_vec(&err.to_status()).unwrap_or_default(),
            );
            return Body::from(line);
        }
    };
    let WatchStart {
        id,
        initial,
        backlog,
        rx,
        resource_version,
    } = start;
    let mut pending: VecDeque<Pending> = initial.into_iter().map(Pending::Added).collect();
    if req.send_initial_events && req.from.is_none() && req.bookmarks {
        pending.push_back(Pending::InitialEnd(resource_version));
    }
    pending.extend(backlog.into_iter().map(Pending::Replay));
    let bookmarks = (req.bookmarks && !bookmark_interval.is_zero()).then(|| {
        let mut i = tokio::time::interval_at(Instant::now() + bookmark_interval, bookmark_interval);
        i.set_missed_tick_behavior(MissedTickBehavior::Delay);
        i
    });
    let stream = WatchStream {
        shared,
        resource: req.resource,
        id,
        api_version: req.api_version,
        kind: req.kind,
        pending,
        rx,
        epoch,
        deadline: Instant::now() + req.timeout,
        bookmarks,
        metadata_only: req.metadata_only,
        done: false,
    };
    let body = futures::stream::unfold(stream, |mut s| async move {
        s.next_chunk().await.map(|b| (Ok::<_, Infallible>(b), s))
    });
    Body::from_stream(body)
}

fn event_line(kind: &str, object_json: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(object_json.len() + 32);
    push_line(&mut line, kind, object_json);
    line
}

fn push_line(buf: &mut Vec<u8>, kind: &str, object_json: &[u8]) {
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(kind.as_bytes());
    buf.extend_from_slice(b"\",\"object\":");
    buf.extend_from_slice(object_json);
    buf.extend_from_slice(b"}\n");
}

/// `PartialObjectMetadata` of an object, for clients that asked for metadata only.
pub(crate) fn partial_metadata(obj: &Value) -> Value {
    json!({
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadata",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

impl WatchStream {
    fn push_object(&self, buf: &mut Vec<u8>, kind: EventKind, obj: &Value, json: Option<Bytes>) {
        match (self.metadata_only, json) {
            (false, Some(json)) => push_line(buf, kind.as_str(), &json),
            (true, _) => {
                let body = serde_json::to_vec(&partial_metadata(obj)).unwrap_or_default();
                push_line(buf, kind.as_str(), &body);
            }
            (false, None) => {
                let body = serde_json::to_vec(obj).unwrap_or_default();
                push_line(buf, kind.as_str(), &body);
            }
        }
    }

    fn push_delivery(&self, buf: &mut Vec<u8>, (kind, ev): Delivery) {
        let json = (!self.metadata_only).then(|| ev.object_json());
        self.push_object(buf, kind, &ev.object, json);
    }

    fn bookmark(&self, resource_version: u64, initial_end: bool) -> Vec<u8> {
        let mut metadata = json!({"resourceVersion": resource_version.to_string()});
        if initial_end {
            metadata["annotations"] = json!({INITIAL_EVENTS_END: "true"});
        }
        let obj = json!({"kind": self.kind, "apiVersion": self.api_version, "metadata": metadata});
        event_line("BOOKMARK", &serde_json::to_vec(&obj).unwrap_or_default())
    }

    /// A periodic bookmark at the current revision, but only when everything up to that
    /// revision has left the channel: the store sends under the same lock, so an empty open
    /// channel means no event at or below that revision is still owed to this client.
    fn periodic_bookmark(&self) -> Option<Bytes> {
        let rv = {
            let store = self.shared.store();
            if !self.rx.is_empty() || self.rx.is_closed() {
                return None;
            }
            store.resource_version()
        };
        self.shared
            .counters
            .bookmarks_sent
            .fetch_add(1, Ordering::Relaxed);
        Some(Bytes::from(self.bookmark(rv, false)))
    }

    fn count_events(&self, n: u64) {
        self.shared
            .counters
            .watch_events_sent
            .fetch_add(n, Ordering::Relaxed);
    }

    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.done || self.epoch.has_changed().unwrap_or(true) {
            self.done = true;
            return None;
        }
        if !self.pending.is_empty() {
            let mut buf = Vec::with_capacity(CHUNK_BYTES);
            let mut events = 0;
            while buf.len() < CHUNK_BYTES {
                match self.pending.pop_front() {
                    Some(Pending::Added(obj)) => {
                        self.push_object(&mut buf, EventKind::Added, &obj, None);
                        events += 1;
                    }
                    Some(Pending::Replay(d)) => {
                        self.push_delivery(&mut buf, d);
                        events += 1;
                    }
                    Some(Pending::InitialEnd(rv)) => {
                        buf.extend_from_slice(&self.bookmark(rv, true));
                        self.shared
                            .counters
                            .bookmarks_sent
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    None => break,
                }
            }
            self.count_events(events);
            return Some(Bytes::from(buf));
        }
        loop {
            tokio::select! {
                biased;
                _ = self.epoch.changed() => {
                    self.done = true;
                    return None;
                }
                () = tokio::time::sleep_until(self.deadline) => {
                    self.done = true;
                    return None;
                }
                msg = self.rx.recv() => {
                    let Some(first) = msg else {
                        self.done = true;
                        return None;
                    };
                    let mut buf = Vec::with_capacity(1024);
                    self.push_delivery(&mut buf, first);
                    let mut events = 1;
                    while buf.len() < CHUNK_BYTES {
                        match self.rx.try_recv() {
                            Ok(d) => {
                                self.push_delivery(&mut buf, d);
                                events += 1;
                            }
                            Err(_) => break,
                        }
                    }
                    self.count_events(events);
                    return Some(Bytes::from(buf));
                }
                () = tick(&mut self.bookmarks) => {
                    if let Some(b) = self.periodic_bookmark() {
                        return Some(b);
                    }
                }
            }
        }
    }
}

async fn tick(interval: &mut Option<Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}
