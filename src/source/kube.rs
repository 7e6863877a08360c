//! Live cluster source: discovery, one-shot listing (for `status`, `describe`, `snapshot`) and
//! continuous watches (for `serve`) through the kube-rs client.
//!
//! What is read is decided once, as a list of [`Target`]s: only the namespaces and selectors the
//! backup center needs, never Secrets.

use super::health::SourceHealth;
use crate::dialect::{self, Mapped, ack, velero};
use crate::inventory::Inventory;
use crate::model::{Engine, RecordKey, RecordKind, WorkloadKind};
use futures::TryStreamExt;
use k8s_openapi::api::{
    apps::v1::{DaemonSet, Deployment},
    core::v1::{Event as CoreEvent, Pod},
};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Config};
use serde_json::Value;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// How to reach the cluster and which namespaces to read.
#[derive(Debug, Clone, clap::Args)]
pub struct KubeArgs {
    /// Path to a kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Namespace of the ACK backup center.
    #[arg(long, default_value = ack::NAMESPACE, value_name = "NS")]
    pub ack_namespace: String,
    /// Namespaces where Velero is installed (comma-separated).
    #[arg(
        long,
        default_value = "velero",
        value_delimiter = ',',
        value_name = "NS"
    )]
    pub velero_namespace: Vec<String>,
    /// Objects per list page; small pages keep the memory peak of a relist low.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub page_size: u32,
}

/// One list/watch stream: a resource in a namespace with optional selectors.
#[derive(Debug, Clone)]
pub struct Target {
    /// `<namespace>/<plural>`, the `source` label of `backupscope_source_up`.
    pub source: String,
    pub resource: ApiResource,
    pub namespace: String,
    pub labels: Option<String>,
    pub fields: Option<String>,
    pub kind: RecordKind,
    pub engine: Option<Engine>,
}

impl Target {
    fn api(&self, client: &Client) -> Api<DynamicObject> {
        Api::namespaced_with(client.clone(), &self.namespace, &self.resource)
    }

    fn key(&self, namespace: &str, name: &str) -> RecordKey {
        RecordKey {
            kind: self.kind,
            engine: self.engine,
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The raw object with its type filled in: list items of built-in kinds come without it.
    fn to_value(&self, mut obj: DynamicObject) -> Value {
        obj.types = Some(kube::api::TypeMeta {
            api_version: self.resource.api_version.clone(),
            kind: self.resource.kind.clone(),
        });
        obj.metadata.managed_fields = None;
        serde_json::to_value(&obj).unwrap_or(Value::Null)
    }
}

/// Connects with the kubeconfig (or in-cluster config) the arguments name.
pub async fn client(args: &KubeArgs) -> anyhow::Result<Client> {
    let options = kube::config::KubeConfigOptions {
        context: args.context.clone(),
        ..Default::default()
    };
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| anyhow::anyhow!("cannot read kubeconfig {}: {e}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &options).await?
        }
        None if args.context.is_some() => Config::from_kubeconfig(&options).await?,
        None => Config::infer().await.map_err(|e| {
            anyhow::anyhow!(
                "no cluster configured ({e}); pass --kubeconfig, set KUBECONFIG, run in a pod, \
                 or read an export with --snapshot PATH"
            )
        })?,
    };
    Ok(Client::try_from(config)?)
}

fn builtin<K: kube::Resource<DynamicType = ()>>() -> ApiResource {
    ApiResource::erase::<K>(&())
}

/// Discovers which backup systems the cluster serves and plans what to read. A missing CRD
/// group means that backup system is absent, not an error.
pub async fn plan(client: &Client, args: &KubeArgs) -> anyhow::Result<Vec<Target>> {
    let groups = client
        .list_api_groups()
        .await
        .map_err(|e| anyhow::anyhow!("API discovery failed: {e}"))?;
    let served = |name: &str| groups.groups.iter().any(|g| g.name == name);
    let mut targets = Vec::new();
    let mut namespaces: Vec<String> = Vec::new();

    let ack_group = if served(ack::GROUP) {
        Some(kube::discovery::group(client, ack::GROUP).await?)
    } else {
        tracing::info!(group = ack::GROUP, "ACK backup center not installed");
        None
    };
    let velero_group = if served(velero::GROUP) {
        Some(kube::discovery::group(client, velero::GROUP).await?)
    } else {
        tracing::info!(group = velero::GROUP, "Velero not installed");
        None
    };

    if let Some(group) = &ack_group {
        let ns = &args.ack_namespace;
        namespaces.push(ns.clone());
        for (kind, record) in [
            ("BackupLocation", RecordKind::Vault),
            ("ApplicationBackup", RecordKind::Backup),
            ("BackupSchedule", RecordKind::Schedule),
            ("ApplicationRestore", RecordKind::Restore),
        ] {
            if let Some((ar, _)) = group.recommended_kind(kind) {
                targets.push(target(ar, ns, record, Some(Engine::Ack)));
            }
        }
        // migrate-controller lives in kube-system: read only its own objects there.
        let mut deploy = target(
            builtin::<Deployment>(),
            "kube-system",
            RecordKind::Workload(WorkloadKind::Deployment),
            None,
        );
        deploy.fields = Some("metadata.name=migrate-controller".into());
        targets.push(deploy);
        let mut pods = target(builtin::<Pod>(), "kube-system", RecordKind::Pod, None);
        pods.labels = Some("app=migrate-controller".into());
        targets.push(pods);
    }
    if let Some(group) = &velero_group {
        let mut velero_namespaces = args.velero_namespace.clone();
        // On ACK the velero twins live beside the csdr objects.
        if ack_group.is_some() && !velero_namespaces.contains(&args.ack_namespace) {
            velero_namespaces.push(args.ack_namespace.clone());
        }
        for ns in &velero_namespaces {
            for (kind, record) in [
                ("BackupStorageLocation", RecordKind::Vault),
                ("Backup", RecordKind::Backup),
                ("Schedule", RecordKind::Schedule),
                ("Restore", RecordKind::Restore),
                ("PodVolumeBackup", RecordKind::PodVolumeBackup),
            ] {
                if let Some((ar, _)) = group.recommended_kind(kind) {
                    targets.push(target(ar, ns, record, Some(Engine::Velero)));
                }
            }
            if !namespaces.contains(ns) {
                namespaces.push(ns.clone());
            }
        }
    }
    for ns in &namespaces {
        targets.push(target(
            builtin::<Deployment>(),
            ns,
            RecordKind::Workload(WorkloadKind::Deployment),
            None,
        ));
        targets.push(target(
            builtin::<DaemonSet>(),
            ns,
            RecordKind::Workload(WorkloadKind::DaemonSet),
            None,
        ));
        targets.push(target(builtin::<Pod>(), ns, RecordKind::Pod, None));
        let mut events = target(builtin::<CoreEvent>(), ns, RecordKind::Event, None);
        events.fields = Some("type!=Normal".into());
        targets.push(events);
    }
    Ok(targets)
}

fn target(resource: ApiResource, ns: &str, kind: RecordKind, engine: Option<Engine>) -> Target {
    Target {
        source: format!("{ns}/{}", resource.plural),
        resource,
        namespace: ns.to_string(),
        labels: None,
        fields: None,
        kind,
        engine,
    }
}

/// Lists every target once (paginated). A target the cluster refuses (403, ...) is reported
/// in `health` and skipped; the others still load.
pub async fn list_all(
    client: &Client,
    targets: &[Target],
    page_size: u32,
    health: &SourceHealth,
) -> Vec<(usize, Value)> {
    let mut out = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let api = t.api(client);
        let mut params = ListParams::default().limit(page_size);
        if let Some(l) = &t.labels {
            params = params.labels(l);
        }
        if let Some(f) = &t.fields {
            params = params.fields(f);
        }
        let mut continue_token: Option<String> = None;
        loop {
            let mut page_params = params.clone();
            if let Some(c) = &continue_token {
                page_params = page_params.continue_token(c);
            }
            match api.list(&page_params).await {
                Ok(list) => {
                    continue_token = list.metadata.continue_.filter(|c| !c.is_empty());
                    out.extend(list.items.into_iter().map(|o| (i, t.to_value(o))));
                    if continue_token.is_none() {
                        health.up(&t.source);
                        break;
                    }
                }
                Err(e) => {
                    health.down(&t.source, &describe_error(t, &e));
                    break;
                }
            }
        }
    }
    out
}

/// A user-facing explanation of a failed request, naming the missing permission for a 403.
fn describe_error(t: &Target, e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) if status.code == 403 => format!(
            "forbidden: grant list and watch on {}{} in namespace {} ({})",
            t.resource.plural,
            if t.resource.group.is_empty() {
                String::new()
            } else {
                format!(".{}", t.resource.group)
            },
            t.namespace,
            status.message
        ),
        other => other.to_string(),
    }
}

/// Applies one raw object of a target to the inventory.
fn apply(inventory: &RwLock<Inventory>, t: &Target, value: &Value) -> Option<RecordKey> {
    let ns = value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)?;
    let name = value.pointer("/metadata/name").and_then(Value::as_str)?;
    let key = t.key(ns, name);
    let mapped = dialect::map(value);
    let Ok(mut inv) = inventory.write() else {
        return None;
    };
    match mapped {
        Ok(Mapped::Record(r)) => inv.apply(*r),
        // No longer relevant (an event turned Normal, a pod relabelled): forget it.
        Ok(Mapped::Irrelevant | Mapped::UnknownKind) => {
            inv.remove(&key);
        }
        Err(e) => tracing::warn!(source = %t.source, name, error = %e, "unreadable object skipped"),
    }
    Some(key)
}

/// Fills an inventory from a one-shot list of every target.
pub fn inventory_from_list(targets: &[Target], objects: &[(usize, Value)]) -> Inventory {
    let inventory = RwLock::new(Inventory::new());
    for (i, v) in objects {
        apply(&inventory, &targets[*i], v);
    }
    inventory.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Watches one target for ever, keeping the inventory equal to the cluster's state: applies
/// adds and updates, removes deletes, and after every (re)list removes what the list no
/// longer contains. Errors make the source down and are retried with backoff.
pub async fn watch(
    client: Client,
    t: Target,
    page_size: u32,
    inventory: Arc<RwLock<Inventory>>,
    health: Arc<SourceHealth>,
) {
    let mut config = watcher::Config::default().page_size(page_size);
    if let Some(l) = &t.labels {
        config = config.labels(l);
    }
    if let Some(f) = &t.fields {
        config = config.fields(f);
    }
    let stream = watcher(t.api(&client), config).default_backoff();
    futures::pin_mut!(stream);
    let mut seen: Option<HashSet<RecordKey>> = None;
    loop {
        match stream.try_next().await {
            Ok(Some(event)) => {
                health.event(&t.source);
                match event {
                    watcher::Event::Init => seen = Some(HashSet::new()),
                    watcher::Event::InitApply(obj) => {
                        if let Some(key) = apply(&inventory, &t, &t.to_value(obj)) {
                            seen.get_or_insert_with(HashSet::new).insert(key);
                        }
                    }
                    watcher::Event::InitDone => {
                        let seen = seen.take().unwrap_or_default();
                        if let Ok(mut inv) = inventory.write() {
                            for key in inv.keys(t.kind, t.engine) {
                                if key.namespace == t.namespace && !seen.contains(&key) {
                                    inv.remove(&key);
                                }
                            }
                        }
                        health.synced(&t.source);
                    }
                    watcher::Event::Apply(obj) => {
                        apply(&inventory, &t, &t.to_value(obj));
                    }
                    watcher::Event::Delete(obj) => {
                        let ns = obj.metadata.namespace.clone().unwrap_or_default();
                        let name = obj.metadata.name.clone().unwrap_or_default();
                        if let Ok(mut inv) = inventory.write() {
                            inv.remove(&t.key(&ns, &name));
                        }
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                let message = match &e {
                    watcher::Error::InitialListFailed(k)
                    | watcher::Error::WatchStartFailed(k)
                    | watcher::Error::WatchFailed(k) => describe_error(&t, k),
                    other => other.to_string(),
                };
                health.down(&t.source, &message);
            }
        }
    }
}

/// Starts a watch task per target.
pub fn spawn_watches(
    client: &Client,
    targets: Vec<Target>,
    page_size: u32,
    inventory: Arc<RwLock<Inventory>>,
    health: Arc<SourceHealth>,
) -> Vec<tokio::task::JoinHandle<()>> {
    targets
        .into_iter()
        .map(|t| {
            health.register(&t.source);
            let span = tracing::info_span!("watch", source = %t.source);
            let fut = watch(
                client.clone(),
                t,
                page_size,
                inventory.clone(),
                health.clone(),
            );
            tokio::spawn(tracing::Instrument::instrument(fut, span))
        })
        .collect()
}
