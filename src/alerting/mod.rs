//! Alerting: the Prometheus alert rules generated from the metric declarations (`rules`), the
//! Warning events backupscope writes on failed tasks (`events`), the forwarding of Warning
//! events to Alertmanager (`forward`), and the Lease that makes only one replica write events
//! and forward alerts (`lease`). `serve` flattens [`AlertingArgs`] and calls [`spawn`].

pub mod events;
pub mod forward;
pub mod lease;
pub mod rules;

use crate::inventory::Inventory;
use crate::model::Engine;
use clap::Args;
use std::sync::{Arc, RwLock};
use std::time::Duration;

fn duration(s: &str) -> Result<Duration, String> {
    crate::model::cadence::go_duration_seconds(s)
        .map(Duration::from_secs_f64)
        .map_err(|e| e.to_string())
}

fn lease_name(s: &str) -> Result<(String, String), String> {
    match s.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
            Ok((ns.to_string(), name.to_string()))
        }
        _ => Err(format!("expected NAMESPACE/NAME, got {s:?}")),
    }
}

#[derive(Debug, Clone, Args)]
pub struct AlertingArgs {
    /// Create one Warning event on each backup task that becomes Failed or PartiallyFailed
    /// (live clusters only): auto = for Velero's tasks (Velero emits none), on = also ACK's
    /// (whose csdr-controller emits its own), off = never.
    #[arg(long, value_enum, default_value_t = events::EmitEvents::Auto)]
    pub emit_events: events::EmitEvents,
    /// Failures older than this get no event: the API server expires events after an hour, so
    /// an older failure's event could not be found to prevent a duplicate.
    #[arg(long, default_value = "1h", value_parser = duration, value_name = "DURATION")]
    pub event_max_age: Duration,
    /// How often the failed tasks are checked for a missing event.
    #[arg(long, default_value = "5s", value_parser = duration, value_name = "DURATION")]
    pub event_interval: Duration,
    /// With several replicas: the coordination.k8s.io/v1 Lease they compete for; only its
    /// holder writes events. Without it this replica acts alone.
    #[arg(long, value_parser = lease_name, value_name = "NAMESPACE/NAME")]
    pub lease: Option<(String, String)>,
    /// How long a lease holder may go without renewing before another replica takes over.
    #[arg(long, default_value = "15s", value_parser = duration, value_name = "DURATION")]
    pub lease_duration: Duration,
    /// This replica's name in the lease and on its events (the pod name, from POD_NAME).
    #[arg(long, env = "POD_NAME", value_name = "NAME")]
    pub identity: Option<String>,
    /// Forward the backup center's Warning events as alerts (BackupCenterWarningEvent) to this
    /// Alertmanager, e.g. http://alertmanager:9093; repeat for several (live clusters only).
    #[arg(long, value_name = "URL")]
    pub alertmanager_url: Vec<String>,
    /// A forwarded event's alert resolves once the event has not recurred for this long.
    #[arg(long, default_value = "15m", value_parser = duration, value_name = "DURATION")]
    pub alert_quiet_time: Duration,
    /// Firing alerts are sent again this often, so a restarted Alertmanager learns them.
    #[arg(long, default_value = "1m", value_parser = duration, value_name = "DURATION")]
    pub alert_resend_interval: Duration,
    /// Alerts waiting per Alertmanager; beyond it new alerts are dropped (and counted).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub alert_queue: usize,
}

impl AlertingArgs {
    fn identity(&self) -> String {
        self.identity
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| format!("backupscope-{}", std::process::id()))
    }
}

/// Starts what `args` asks for on a live cluster: the lease loop (when configured), the
/// events writer and the Alertmanager forwarder. Returns the tasks so `serve` can stop them;
/// `Err` for an unusable Alertmanager URL.
pub fn spawn(
    args: &AlertingArgs,
    client: &kube::Client,
    inventory: Arc<RwLock<Inventory>>,
    engine: Option<Engine>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut tasks = Vec::new();
    let instance = args.identity();
    let leadership = match &args.lease {
        Some((namespace, name)) => {
            let (leadership, task) = lease::elect(
                client,
                lease::LeaseConfig {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    identity: instance.clone(),
                    duration: args.lease_duration,
                },
            );
            tasks.push(task);
            leadership
        }
        None => lease::Leadership::solo(),
    };
    if !args.alertmanager_url.is_empty() {
        let leader = leadership.clone();
        tasks.extend(forward::spawn(
            forward::ForwardConfig {
                urls: args.alertmanager_url.clone(),
                quiet: args.alert_quiet_time,
                resend: args.alert_resend_interval,
                queue: args.alert_queue,
                every: args.event_interval,
            },
            inventory.clone(),
            engine,
            move || leader.is_leader(),
        )?);
    }
    if args.emit_events != events::EmitEvents::Off {
        let writer = events::EventWriter {
            client: client.clone(),
            inventory,
            engine,
            emit: args.emit_events,
            max_age: args.event_max_age,
            instance,
            every: args.event_interval,
        };
        tasks.push(tokio::spawn(async move {
            writer.run(move || leadership.is_leader()).await
        }));
    }
    Ok(tasks)
}
