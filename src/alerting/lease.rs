//! Leader election over a `coordination.k8s.io/v1` Lease, so that of several replicas only one
//! writes events and forwards alerts (every replica serves metrics). The holder renews the
//! lease every third of its duration; another replica takes it once `renewTime` is older than
//! `leaseDurationSeconds`. Every write carries the resourceVersion it read, so two replicas
//! that race for an expired lease cannot both win: the loser gets 409 Conflict.

use crate::model::Timestamp;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Whether this replica may act; shared by the lease loop (writer) and the actors (readers).
#[derive(Debug, Clone)]
pub struct Leadership(Arc<State>);

#[derive(Debug)]
struct State {
    leader: AtomicBool,
    /// When the last successful renewal happened; a leader that cannot renew steps down before
    /// its lease can expire, so two replicas never act at once.
    renewed: std::sync::Mutex<Option<Instant>>,
    duration: Duration,
}

impl Leadership {
    /// A replica that acts alone (no lease configured): always the leader.
    pub fn solo() -> Self {
        let l = Leadership::new(Duration::MAX);
        l.0.leader.store(true, Ordering::SeqCst);
        l
    }

    fn new(duration: Duration) -> Self {
        Leadership(Arc::new(State {
            leader: AtomicBool::new(false),
            renewed: std::sync::Mutex::new(None),
            duration,
        }))
    }

    pub fn is_leader(&self) -> bool {
        if !self.0.leader.load(Ordering::SeqCst) {
            return false;
        }
        if self.0.duration == Duration::MAX {
            return true;
        }
        // Step down early: only act while the last renewal is fresher than 2/3 of the lease.
        self.0
            .renewed
            .lock()
            .ok()
            .and_then(|r| *r)
            .is_some_and(|at| at.elapsed() < self.0.duration * 2 / 3)
    }

    fn set(&self, leader: bool) {
        if leader && let Ok(mut r) = self.0.renewed.lock() {
            *r = Some(Instant::now());
        }
        self.0.leader.store(leader, Ordering::SeqCst);
    }
}

#[derive(Debug, Clone)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub duration: Duration,
}

/// The verbs [`try_acquire`] uses on leases, only in the lease's own namespace: read it,
/// create it when missing, replace it (PUT) to take or renew it.
pub const VERBS: [&str; 3] = ["get", "create", "update"];

fn lease_resource() -> ApiResource {
    ApiResource::erase::<k8s_openapi::api::coordination::v1::Lease>(&())
}

/// What to do with the lease as read: take or renew it (`true`), or leave it to its holder.
pub fn may_take(spec: &Value, me: &str, now: Timestamp) -> bool {
    let holder = spec["holderIdentity"].as_str().unwrap_or("");
    if holder.is_empty() || holder == me {
        return true;
    }
    let duration = spec["leaseDurationSeconds"].as_f64().unwrap_or(0.0);
    let renewed = spec["renewTime"]
        .as_str()
        .and_then(|s| s.parse::<Timestamp>().ok());
    match renewed {
        // A lease never renewed is free.
        None => true,
        Some(at) => now.duration_since(at).as_secs_f64() > duration,
    }
}

fn spec(config: &LeaseConfig, now: Timestamp, acquired: Option<&Value>, transitions: i64) -> Value {
    let now = super::events::micro_time(now);
    json!({
        "holderIdentity": config.identity,
        "leaseDurationSeconds": config.duration.as_secs().max(1),
        "acquireTime": acquired.cloned().unwrap_or_else(|| json!(now)),
        "renewTime": now,
        "leaseTransitions": transitions,
    })
}

/// One round: read the lease, take or renew it when allowed. `Ok(true)`: this replica holds it.
pub async fn try_acquire(client: &kube::Client, config: &LeaseConfig) -> anyhow::Result<bool> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &config.namespace, &lease_resource());
    let now = Timestamp::now();
    let Some(current) = api.get_opt(&config.name).await? else {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": config.name, "namespace": config.namespace},
            "spec": spec(config, now, None, 0),
        }))?;
        return match api.create(&PostParams::default(), &object).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(error) => Err(error.into()),
        };
    };
    let old = current.data.get("spec").cloned().unwrap_or(Value::Null);
    if !may_take(&old, &config.identity, now) {
        return Ok(false);
    }
    let holder = old["holderIdentity"].as_str().unwrap_or("");
    let ours = holder == config.identity;
    let transitions = old["leaseTransitions"].as_i64().unwrap_or(0) + i64::from(!ours);
    let mut next = current.clone();
    next.data["spec"] = spec(
        config,
        now,
        ours.then(|| &old["acquireTime"]).filter(|v| !v.is_null()),
        transitions,
    );
    // `next` keeps the resourceVersion read above: the API server refuses the write with 409
    // if anyone changed the lease in between.
    match api
        .replace(&config.name, &PostParams::default(), &next)
        .await
    {
        Ok(_) => {
            if !ours {
                tracing::info!(lease = %config.name, identity = %config.identity, previous = %holder, "took the lease");
            }
            Ok(true)
        }
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Competes for the lease forever, keeping `leadership` current.
pub async fn run(client: kube::Client, config: LeaseConfig, leadership: Leadership) {
    let every = (config.duration / 3).max(Duration::from_millis(100));
    loop {
        match try_acquire(&client, &config).await {
            Ok(held) => leadership.set(held),
            Err(error) => {
                // Keep acting only while the last renewal is fresh (Leadership::is_leader).
                tracing::warn!(error = %format!("{error:#}"), lease = %config.name, "cannot renew the lease");
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// A lease loop for `config`, returning the leadership handle it keeps current.
pub fn elect(
    client: &kube::Client,
    config: LeaseConfig,
) -> (Leadership, tokio::task::JoinHandle<()>) {
    let leadership = Leadership::new(config.duration);
    let task = tokio::spawn(run(client.clone(), config, leadership.clone()));
    (leadership, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_taken_when_free_ours_or_expired() {
        let now: Timestamp = "2026-11-25T09:00:00Z".parse().unwrap();
        let held = |holder: &str, renewed: &str| json!({"holderIdentity": holder, "leaseDurationSeconds": 15, "renewTime": renewed});
        assert!(may_take(&json!({}), "a", now));
        assert!(may_take(
            &held("a", "2026-11-25T08:59:59.000000Z"),
            "a",
            now
        ));
        assert!(!may_take(
            &held("b", "2026-11-25T08:59:50.000000Z"),
            "a",
            now
        ));
        assert!(may_take(
            &held("b", "2026-11-25T08:59:40.000000Z"),
            "a",
            now
        ));
        assert!(may_take(&json!({"holderIdentity": "b"}), "a", now));
    }

    #[test]
    fn a_leader_that_stops_renewing_steps_down() {
        let l = Leadership::new(Duration::from_millis(30));
        assert!(!l.is_leader());
        l.set(true);
        assert!(l.is_leader());
        std::thread::sleep(Duration::from_millis(40));
        assert!(!l.is_leader(), "renewal is older than the lease allows");
        assert!(Leadership::solo().is_leader());
    }
}
