//! Live cluster source: discovery, one-shot listing (for `status`, `describe`, `snapshot`) and
//! continuous watches (for `serve`) through the kube-rs client.
//!
//! What is read is decided once, as a list of [`Target`]s: only the namespaces and selectors the
//! backup center needs, never Secrets.

use super::health::SourceHealth;
use super::reflector;
use crate::dialect::{self, Mapped, ack, velero};
use crate::inventory::Inventory;
use crate::model::{Engine, Record, RecordKey, RecordKind, WorkloadKind};
use k8s_openapi::api::{
    apps::v1::{DaemonSet, Deployment},
    core::v1::{Event as CoreEvent, Pod},
};
use kube::api::{ApiResource, DynamicObject};
use kube::{Client, Config, Resource};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// Where `velero install` puts Velero.
pub const DEFAULT_VELERO_NAMESPACE: &str = "velero";

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
    /// Namespaces where Velero is installed (comma-separated). Left at the default, every
    /// namespace holding a BackupStorageLocation is read too (OADP's openshift-adp, a Helm
    /// release's namespace), when backupscope may list them cluster-wide.
    #[arg(
        long,
        default_value = DEFAULT_VELERO_NAMESPACE,
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

/// What one raw object does to the inventory.
pub(super) enum Change {
    Upsert(Box<Record>),
    /// Gone, or no longer relevant (an event turned Normal, a pod relabelled).
    Remove(RecordKey),
    /// Unreadable: the previous version, if any, stays.
    Keep(RecordKey),
}

impl Change {
    /// Applies the change; returns the key it concerned.
    pub(super) fn apply(self, inv: &mut Inventory) -> RecordKey {
        match self {
            Change::Upsert(r) => {
                let key = r.key();
                inv.apply(*r);
                key
            }
            Change::Remove(key) => {
                inv.remove(&key);
                key
            }
            Change::Keep(key) => key,
        }
    }
}

impl Target {
    /// Requests for this resource in this namespace.
    pub(super) fn request(&self) -> kube::core::Request {
        kube::core::Request::new(DynamicObject::url_path(
            &self.resource,
            Some(&self.namespace),
        ))
    }

    fn key(&self, namespace: &str, name: &str) -> RecordKey {
        RecordKey {
            kind: self.kind,
            engine: self.engine,
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The raw object with its type filled in (list items of built-in kinds come without it)
    /// and without managedFields, which nothing reads and support bundles need not carry.
    pub(super) fn typed(&self, mut obj: Value) -> Value {
        if let Some(map) = obj.as_object_mut() {
            map.entry("apiVersion")
                .or_insert_with(|| Value::String(self.resource.api_version.clone()));
            map.entry("kind")
                .or_insert_with(|| Value::String(self.resource.kind.clone()));
            if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
        }
        obj
    }

    fn key_of(&self, obj: &Value) -> Option<RecordKey> {
        let meta = obj.get("metadata")?;
        let ns = meta.get("namespace").and_then(Value::as_str)?;
        let name = meta.get("name").and_then(Value::as_str)?;
        Some(self.key(ns, name))
    }

    /// What an added or modified object (type filled in) does to the inventory; `None` for
    /// an object without namespace or name.
    pub(super) fn change(&self, obj: &Value) -> Option<Change> {
        let key = self.key_of(obj)?;
        Some(match dialect::map(obj) {
            Ok(Mapped::Record(r)) => Change::Upsert(r),
            Ok(Mapped::Irrelevant | Mapped::UnknownKind) => Change::Remove(key),
            Err(e) => {
                tracing::warn!(source = %self.source, name = %key.name, error = %e, "unreadable object skipped");
                Change::Keep(key)
            }
        })
    }

    /// What a deleted object does to the inventory.
    pub(super) fn deletion(&self, obj: &Value) -> Option<Change> {
        self.key_of(obj).map(Change::Remove)
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
    }
    if let Some(group) = &velero_group {
        let mut velero_namespaces = args.velero_namespace.clone();
        // Left at its default, `--velero-namespace` also takes every namespace that holds a
        // BackupStorageLocation: OADP's openshift-adp (or oadp-operator), a Helm release's
        // own namespace. Named explicitly, it is exactly what the user asked for.
        if args.velero_namespace == [DEFAULT_VELERO_NAMESPACE] {
            for ns in namespaces_with_locations(client, group).await {
                if !velero_namespaces.contains(&ns) {
                    velero_namespaces.push(ns);
                }
            }
        }
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
    // migrate-controller lives in kube-system: read only its own objects there, unless
    // kube-system is read whole anyway (two targets on one namespace would each remove the
    // other's objects when they relist).
    if ack_group.is_some() && !namespaces.iter().any(|ns| ns == "kube-system") {
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

/// Pages read at most while looking for Velero's namespaces (500 locations each).
const LOCATION_PAGES: usize = 20;

/// The namespaces that hold a Velero BackupStorageLocation, from metadata-only lists across
/// the cluster: a location is what every working Velero install has, and there are few of
/// them. Needs `list` on backupstoragelocations.velero.io cluster-wide; without it (a
/// service account bound per namespace) the answer is empty and only `--velero-namespace`
/// is read, so no permission beyond those namespaces is ever required.
async fn namespaces_with_locations(
    client: &Client,
    group: &kube::discovery::ApiGroup,
) -> Vec<String> {
    let Some((ar, _)) = group.recommended_kind("BackupStorageLocation") else {
        return Vec::new();
    };
    let api: kube::Api<DynamicObject> = kube::Api::all_with(client.clone(), &ar);
    let mut params = kube::api::ListParams::default().limit(500);
    let mut namespaces = std::collections::BTreeSet::new();
    for _ in 0..LOCATION_PAGES {
        let page = match api.list_metadata(&params).await {
            Ok(page) => page,
            Err(e) => {
                tracing::info!(
                    error = %e,
                    "cannot list backupstoragelocations across namespaces; reading the \
                     --velero-namespace namespaces only"
                );
                return Vec::new();
            }
        };
        namespaces.extend(page.items.into_iter().filter_map(|o| o.metadata.namespace));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    if !namespaces.is_empty() {
        tracing::info!(namespaces = ?namespaces, "Velero backup storage locations found");
    }
    namespaces.into_iter().collect()
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
        let mut objects = Vec::new();
        let listed = reflector::list_pages(client, t, page_size, |page| {
            objects.extend(page.into_iter().map(|o| (i, o)));
        })
        .await;
        match listed {
            Ok(_) => {
                health.up(&t.source);
                out.extend(objects);
            }
            Err((e, _)) => health.down(&t.source, &describe_error(t, &e)),
        }
    }
    out
}

/// A user-facing explanation of a failed request, naming the missing permission for a 403.
pub(super) fn describe_error(t: &Target, e: &kube::Error) -> String {
    let resource = if t.resource.group.is_empty() {
        t.resource.plural.clone()
    } else {
        format!("{}.{}", t.resource.plural, t.resource.group)
    };
    match e {
        kube::Error::Api(status) if status.code == 403 => format!(
            "forbidden: grant list and watch on {resource} in namespace {} ({})",
            t.namespace, status.message
        ),
        kube::Error::Api(status) => format!(
            "reading {resource} in namespace {}: HTTP {} {}: {}",
            t.namespace, status.code, status.reason, status.message
        ),
        other => format!("reading {resource} in namespace {}: {other}", t.namespace),
    }
}

/// Fills an inventory from a one-shot list of every target.
pub fn inventory_from_list(targets: &[Target], objects: &[(usize, Value)]) -> Inventory {
    let mut inventory = Inventory::new();
    for (i, v) in objects {
        if let Some(change) = targets.get(*i).and_then(|t| t.change(v)) {
            change.apply(&mut inventory);
        }
    }
    inventory
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
            let fut = reflector::run(
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
