//! Warning events on failed backup tasks (`serve --emit-events`): when a task becomes Failed
//! or PartiallyFailed, one Warning event on it, the way ACK's csdr-controller reports failures
//! (Velero reports none). Exactly once per failure: the event's name is derived from the task
//! and its failure, so a restarted process or a second replica computes the same name, finds
//! the event (check before create) and creates nothing; a create that loses a race gets 409.

use crate::center::BackupCenter;
use crate::inventory::Inventory;
use crate::model::{BackupTask, Engine, Outcome, Timestamp};
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Which tasks get an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EmitEvents {
    /// Velero's tasks only: ACK's csdr-controller already emits its own.
    Auto,
    /// Every engine's tasks.
    On,
    Off,
}

impl EmitEvents {
    fn covers(self, engine: Engine) -> bool {
        match self {
            EmitEvents::Auto => engine == Engine::Velero,
            EmitEvents::On => true,
            EmitEvents::Off => false,
        }
    }
}

/// The component name backupscope reports events as.
pub const COMPONENT: &str = "backupscope";
/// Longest event message; the task's full message stays on the task.
const MAX_MESSAGE_CHARS: usize = 512;

/// One event to make sure exists.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEvent {
    pub namespace: String,
    pub name: String,
    pub involved_api_version: String,
    pub involved_kind: &'static str,
    pub involved_name: String,
    pub reason: &'static str,
    pub message: String,
    /// When the task failed (completion, else start, else creation); the event's time.
    pub at: Option<Timestamp>,
}

/// The events the current state calls for: one per failed task of a covered engine that
/// failed within `max_age` of `now` (older failures' events would have expired from the API
/// server, so checking for them proves nothing; they are left alone rather than re-reported
/// after every restart).
pub fn plan(
    center: &BackupCenter,
    emit: EmitEvents,
    max_age: Duration,
    now: Timestamp,
) -> Vec<PlannedEvent> {
    let mut out: Vec<PlannedEvent> = center
        .flagged_tasks()
        .filter(|t| t.phase.is_failure() && emit.covers(t.engine))
        .filter(|t| {
            failed_at(t)
                .is_none_or(|at| now.duration_since(at).as_secs_f64() <= max_age.as_secs_f64())
        })
        .map(|t| planned(center, t))
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

fn failed_at(t: &BackupTask) -> Option<Timestamp> {
    t.completed.or(t.started).or(t.created)
}

fn planned(center: &BackupCenter, t: &BackupTask) -> PlannedEvent {
    let view = center.view(t);
    let class = center.reason(&view);
    let reason = if t.phase.outcome() == Outcome::PartiallyFailed {
        "BackupPartiallyFailed"
    } else {
        "BackupFailed"
    };
    let (api_version, kind) = match t.engine {
        Engine::Ack => (
            format!("{}/v1beta1", crate::dialect::ack::GROUP),
            "ApplicationBackup",
        ),
        Engine::Velero => (format!("{}/v1", crate::dialect::velero::GROUP), "Backup"),
    };
    PlannedEvent {
        namespace: t.namespace.to_string(),
        name: event_name(t),
        involved_api_version: api_version,
        involved_kind: kind,
        involved_name: t.name.to_string(),
        reason,
        message: message(
            class.as_str(),
            t.phase.as_str(),
            &center.failure_message(&view),
        ),
        at: failed_at(t),
    }
}

/// `<class>: <first line of the controller's message>`, without repeating a class the message
/// already starts with (ACK writes `VaultError: ...`).
fn message(class: &str, phase: &str, controller: &str) -> String {
    let first = controller.lines().next().unwrap_or("").trim();
    let text = if first.is_empty() {
        format!("{class}: backup task {phase}")
    } else if first.starts_with(&format!("{class}:")) {
        first.to_string()
    } else {
        format!("{class}: {first}")
    };
    let mut short: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    if text.chars().nth(MAX_MESSAGE_CHARS).is_some() {
        short.pop();
        short.push('…');
    }
    short
}

/// `<task>.bs<16 hex digits>`: a hash of the task's identity and failure (engine, namespace,
/// name, phase, completion time), so the same failure always names the same event and a task
/// recreated under the same name that fails again gets a new one. Within the 253 characters
/// an object name may have.
pub fn event_name(t: &BackupTask) -> String {
    let identity = format!(
        "{}\n{}\n{}\n{}\n{}",
        t.engine.as_str(),
        t.namespace,
        t.name,
        t.phase.as_str(),
        t.completed.map(|c| c.to_string()).unwrap_or_default()
    );
    let suffix = format!(
        ".bs{:016x}",
        crate::metrics::sink::fnv1a64(identity.as_bytes())
    );
    let room = 253 - suffix.len();
    let stem: String = t.name.chars().take(room).collect();
    format!("{stem}{suffix}")
}

/// Kubernetes `Time`: RFC 3339 in whole seconds.
fn k8s_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Kubernetes `MicroTime`: RFC 3339 with exactly six fractional digits.
pub fn micro_time(t: Timestamp) -> String {
    format!(
        "{}.{:06}Z",
        t.strftime("%Y-%m-%dT%H:%M:%S"),
        t.subsec_microsecond()
    )
}

/// The core/v1 Event for a planned one.
pub fn event_object(e: &PlannedEvent, instance: &str, now: Timestamp) -> serde_json::Value {
    let at = k8s_time(e.at.unwrap_or(now));
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": e.name,
            "namespace": e.namespace,
            "labels": {"app.kubernetes.io/managed-by": COMPONENT},
        },
        "involvedObject": {
            "apiVersion": e.involved_api_version,
            "kind": e.involved_kind,
            "name": e.involved_name,
            "namespace": e.namespace,
        },
        "type": "Warning",
        "reason": e.reason,
        "message": e.message,
        "count": 1,
        "firstTimestamp": at,
        "lastTimestamp": at,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": instance,
        "action": "Backup",
    })
}

/// What happened to one planned event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    Created,
    /// It was there already (this process before a restart, or another replica).
    Existed,
}

/// The verbs [`ensure`] uses on core/v1 events: all `serve --emit-events` adds to the reads.
pub const VERBS: [&str; 2] = ["get", "create"];

/// Makes sure the event exists: GET, and POST only when it is missing; a 409 on POST means
/// someone else created it in between.
pub async fn ensure(
    client: &kube::Client,
    e: &PlannedEvent,
    instance: &str,
    now: Timestamp,
) -> anyhow::Result<Ensured> {
    let resource = ApiResource::erase::<k8s_openapi::api::core::v1::Event>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &e.namespace, &resource);
    if api.get_opt(&e.name).await?.is_some() {
        return Ok(Ensured::Existed);
    }
    let object: DynamicObject = serde_json::from_value(event_object(e, instance, now))?;
    match api.create(&PostParams::default(), &object).await {
        Ok(_) => Ok(Ensured::Created),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(Ensured::Existed),
        Err(error) => Err(anyhow::Error::new(error).context(format!(
            "create event {}/{} on backup {}",
            e.namespace, e.name, e.involved_name
        ))),
    }
}

/// The writer: keeps the planned events in existence while `may_write` says this replica
/// holds the lease.
pub struct EventWriter {
    pub client: kube::Client,
    pub inventory: Arc<RwLock<Inventory>>,
    pub engine: Option<Engine>,
    pub emit: EmitEvents,
    pub max_age: Duration,
    pub instance: String,
    pub every: Duration,
}

impl EventWriter {
    pub async fn run(self, may_write: impl Fn() -> bool) {
        // Names known to exist; each is checked against the API server once per process.
        let mut done: HashSet<String> = HashSet::new();
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !may_write() {
                continue;
            }
            let now = Timestamp::now();
            let wanted = match self.inventory.read() {
                Ok(inv) => plan(
                    &BackupCenter::for_engine(&inv, now, self.engine),
                    self.emit,
                    self.max_age,
                    now,
                ),
                Err(_) => return,
            };
            for e in &wanted {
                if done.contains(&e.name) {
                    continue;
                }
                if !may_write() {
                    break;
                }
                match ensure(&self.client, e, &self.instance, now).await {
                    Ok(outcome) => {
                        tracing::info!(event = %e.name, namespace = %e.namespace, backup = %e.involved_name, ?outcome, "warning event ensured");
                        done.insert(e.name.clone());
                    }
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), event = %e.name, "cannot write warning event; will retry");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::center::tests::{ack_backup, inventory, now};
    use serde_json::json;

    fn velero_failed(name: &str, phase: &str, completed: &str, reason: &str) -> serde_json::Value {
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "velero"},
            "spec": {"storageLocation": "default"},
            "status": {"phase": phase, "completionTimestamp": completed, "failureReason": reason}})
    }

    #[test]
    fn only_recent_failures_of_covered_engines_are_planned() {
        let inv = inventory(vec![
            velero_failed(
                "v-new",
                "Failed",
                "2026-11-25T08:30:00Z",
                "found a backup with status \"InProgress\" during the server starting, mark it as \"Failed\"",
            ),
            velero_failed("v-partial", "PartiallyFailed", "2026-11-25T08:50:00Z", ""),
            velero_failed("v-old", "Failed", "2026-11-24T08:30:00Z", "boom"),
            velero_failed("v-done", "Completed", "2026-11-25T08:55:00Z", ""),
            ack_backup(
                "a-failed",
                "Failed",
                "VaultError: backup vault is unavailable",
            ),
        ]);
        let center = BackupCenter::new(&inv, now());
        let hour = Duration::from_secs(3600);
        let auto = plan(&center, EmitEvents::Auto, hour, now());
        let names: Vec<&str> = auto.iter().map(|e| e.involved_name.as_str()).collect();
        assert_eq!(names.len(), 2, "{auto:#?}");
        assert!(names.contains(&"v-new") && names.contains(&"v-partial"));
        let failed = auto.iter().find(|e| e.involved_name == "v-new").unwrap();
        assert_eq!(failed.reason, "BackupFailed");
        assert_eq!(failed.involved_kind, "Backup");
        assert_eq!(failed.involved_api_version, "velero.io/v1");
        assert!(
            failed
                .message
                .starts_with("ServerRestarted: found a backup with status"),
            "{}",
            failed.message
        );
        let partial = auto
            .iter()
            .find(|e| e.involved_name == "v-partial")
            .unwrap();
        assert_eq!(partial.reason, "BackupPartiallyFailed");
        assert_eq!(
            partial.message,
            "PartialFailure: backup task PartiallyFailed"
        );

        // `on` adds ACK's task (no completion time: kept, the check guards it); the class is
        // not repeated.
        let on = plan(&center, EmitEvents::On, hour, now());
        let ack = on.iter().find(|e| e.involved_name == "a-failed").unwrap();
        assert_eq!(ack.involved_kind, "ApplicationBackup");
        assert_eq!(ack.message, "VaultError: backup vault is unavailable");
        assert!(plan(&center, EmitEvents::Off, hour, now()).is_empty());
        // A wider window reaches the day-old failure.
        let day = plan(&center, EmitEvents::Auto, 2 * 24 * hour, now());
        assert_eq!(day.len(), 3);
    }

    #[test]
    fn event_names_are_stable_valid_and_per_failure() {
        let inv = inventory(vec![velero_failed(
            "x",
            "Failed",
            "2026-11-25T08:30:00Z",
            "boom",
        )]);
        let center = BackupCenter::new(&inv, now());
        let t = center.tasks().next().unwrap();
        let name = event_name(t);
        assert_eq!(name, event_name(t));
        assert!(
            name.starts_with("x.bs") && name.len() == "x.bs".len() + 16,
            "{name}"
        );
        let mut other = t.clone();
        other.completed = Some("2026-11-25T08:40:00Z".parse().unwrap());
        assert_ne!(event_name(&other), name, "a new failure of the same name");
        other.name = "n".repeat(300).into();
        assert_eq!(event_name(&other).len(), 253);
    }

    #[test]
    fn times_are_formatted_the_way_kubernetes_parses_them() {
        let t: Timestamp = "2026-11-25T08:30:00.5Z".parse().unwrap();
        assert_eq!(k8s_time(t), "2026-11-25T08:30:00Z");
        assert_eq!(micro_time(t), "2026-11-25T08:30:00.500000Z");
        assert_eq!(
            message("Timeout", "Failed", &"x".repeat(600))
                .chars()
                .count(),
            MAX_MESSAGE_CHARS
        );
    }
}
