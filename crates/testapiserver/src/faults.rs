//! Injected faults and the request counters tests assert on.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Default period of BOOKMARK events on watches that allow them.
pub(crate) const DEFAULT_BOOKMARK_INTERVAL: Duration = Duration::from_secs(1);

/// Faults configured by the test; read once per request.
#[derive(Debug)]
pub(crate) struct Faults {
    pub(crate) fail_remaining: usize,
    pub(crate) fail_status: u16,
    pub(crate) latency: Duration,
    pub(crate) forbidden: HashSet<String>,
    pub(crate) bookmark_interval: Duration,
    /// Accept requests and never answer them (until the fault is lifted or the server stops).
    pub(crate) hang: bool,
    /// API groups whose discovery (`/apis/<group>`, `/apis/<group>/<version>`) answers 500.
    pub(crate) broken_groups: HashSet<String>,
    /// Every list answers its first page again with the same `continue` token, for ever.
    pub(crate) repeat_continue: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            fail_remaining: 0,
            fail_status: 500,
            latency: Duration::ZERO,
            forbidden: HashSet::new(),
            bookmark_interval: DEFAULT_BOOKMARK_INTERVAL,
            hang: false,
            broken_groups: HashSet::new(),
            repeat_continue: false,
        }
    }
}

impl Faults {
    /// Takes one injected failure, if any are left.
    pub(crate) fn take_failure(&mut self) -> Option<u16> {
        if self.fail_remaining == 0 {
            return None;
        }
        self.fail_remaining -= 1;
        Some(self.fail_status)
    }
}

/// The kind of request, as counted in [`Stats::requests`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
    Discovery,
    Version,
    Other,
}

impl Verb {
    const ALL: [Verb; 11] = [
        Verb::Get,
        Verb::List,
        Verb::Watch,
        Verb::Create,
        Verb::Update,
        Verb::Patch,
        Verb::Delete,
        Verb::DeleteCollection,
        Verb::Discovery,
        Verb::Version,
        Verb::Other,
    ];

    /// The Kubernetes RBAC verb (and `discovery`, `version`, `other` for the rest).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
            Verb::Discovery => "discovery",
            Verb::Version => "version",
            Verb::Other => "other",
        }
    }
}

/// Live counters; [`Stats`] is their snapshot.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: [AtomicU64; 11],
    pub(crate) watches_opened: AtomicU64,
    pub(crate) watch_events_sent: AtomicU64,
    pub(crate) bookmarks_sent: AtomicU64,
    pub(crate) faults_injected: AtomicU64,
    accesses: Mutex<BTreeSet<Access>>,
}

/// One kind of resource request the server received, as an RBAC rule would name it: what a
/// test compares with the permissions the client is meant to need.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Access {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`.
    pub verb: String,
    /// The API group, `""` for the core group.
    pub group: String,
    /// The resource (plural), with `/<subresource>` when one was addressed.
    pub resource: String,
    /// The namespace of the request; `None` for a request across all namespaces or for a
    /// cluster-scoped resource.
    pub namespace: Option<String>,
}

impl Counters {
    pub(crate) fn record(&self, access: Access) {
        // A poisoned lock only means another request panicked mid-insert; the set is whole.
        let mut set = self.accesses.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(access);
    }

    pub(crate) fn accesses(&self) -> BTreeSet<Access> {
        self.accesses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn count(&self, verb: Verb) {
        if let Some(i) = Verb::ALL.iter().position(|v| *v == verb) {
            self.requests[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self, watchers_evicted: u64) -> Stats {
        let requests = Verb::ALL
            .iter()
            .zip(&self.requests)
            .map(|(v, n)| (v.as_str().to_string(), n.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect();
        Stats {
            requests,
            watches_opened: self.watches_opened.load(Ordering::Relaxed),
            watch_events_sent: self.watch_events_sent.load(Ordering::Relaxed),
            bookmarks_sent: self.bookmarks_sent.load(Ordering::Relaxed),
            watchers_evicted,
            faults_injected: self.faults_injected.load(Ordering::Relaxed),
        }
    }
}

/// What the server has done so far, for assertions and benchmark reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received, by verb: `get`, `list`, `watch`, `create`, `update`, `patch`,
    /// `delete`, `deletecollection`, `discovery`, `version`, `other`. Verbs never seen are
    /// absent. Requests answered by an injected fault count too.
    pub requests: BTreeMap<String, u64>,
    /// Watch streams opened (each reconnect of a watcher counts).
    pub watches_opened: u64,
    /// ADDED/MODIFIED/DELETED/ERROR events written to watch streams.
    pub watch_events_sent: u64,
    /// BOOKMARK events written to watch streams.
    pub bookmarks_sent: u64,
    /// Watches closed because the client fell too far behind.
    pub watchers_evicted: u64,
    /// Requests answered by `fail_next`, `forbid` or `break_group_discovery`.
    pub faults_injected: u64,
}

impl Stats {
    /// Requests received for one verb (0 if none).
    pub fn requests(&self, verb: &str) -> u64 {
        self.requests.get(verb).copied().unwrap_or(0)
    }
}
