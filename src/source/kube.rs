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
use std::time::Duration;

/// The longest a read from the API server may stall. Watches send nothing for minutes when
/// nothing changes, and [`reflector`] already gives up on a silent watch after
/// `WATCH_TIMEOUT_SECONDS + 5` s; this is the last resort for a response body that stops
/// half-way, on any request.
const READ_STALL_LIMIT: Duration = Duration::from_secs(300);

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
    #[arg(long, default_value = ack::NAMESPACE, value_name = "NS", value_parser = namespace_name)]
    pub ack_namespace: String,
    /// Namespaces where Velero is installed (comma-separated). Left at the default, every
    /// namespace holding a BackupStorageLocation is read too (OADP's openshift-adp, a Helm
    /// release's namespace), when backupscope may list them cluster-wide.
    #[arg(
        long,
        default_value = DEFAULT_VELERO_NAMESPACE,
        value_delimiter = ',',
        value_name = "NS",
        value_parser = namespace_name
    )]
    pub velero_namespace: Vec<String>,
    /// Objects per list page; small pages keep the memory peak of a relist low.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub page_size: u32,
    /// How long the API server may take to answer one request (discovery, a list page, the
    /// start of a watch) before it counts as failed: a server that accepts connections and
    /// never answers fails within this bound instead of hanging.
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = request_timeout)]
    pub request_timeout: Duration,
}

fn request_timeout(s: &str) -> Result<Duration, String> {
    crate::cli::duration::parse_within(s, Duration::from_millis(100), Duration::from_secs(600))
}

/// A namespace name as Kubernetes accepts it (a DNS-1123 label). It becomes part of URLs
/// and of the file names `snapshot` writes, so `../x` or `a/b` must never get that far.
fn namespace_name(s: &str) -> Result<String, String> {
    let valid = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if valid {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{:?} is not a namespace name: at most 63 lower-case letters, digits and '-', \
             starting and ending with a letter or digit",
            crate::cli::output::cell(s)
        ))
    }
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
                tracing::warn!(
                    source = %self.source,
                    name = %crate::cli::output::cell(&key.name),
                    error = %crate::cli::output::text(&e.to_string()),
                    "unreadable object skipped"
                );
                Change::Keep(key)
            }
        })
    }

    /// What a deleted object does to the inventory.
    pub(super) fn deletion(&self, obj: &Value) -> Option<Change> {
        self.key_of(obj).map(Change::Remove)
    }
}

/// Connects with the kubeconfig (or in-cluster config) the arguments name. Every request is
/// bounded: connecting and the response head by `--request-timeout`, a stalled body by
/// [`READ_STALL_LIMIT`].
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
    bounded_client(config, args.request_timeout)
}

/// A client whose requests fail after `timeout` without an answer.
pub fn bounded_client(mut config: Config, timeout: Duration) -> anyhow::Result<Client> {
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(READ_STALL_LIMIT);
    // Count the read timeout from the request, not from when a pooled connection went idle.
    config.reset_reader_on_write = true;
    let builder = kube::client::ClientBuilder::try_from(config)?;
    // Outermost, so it also bounds token refreshes of auth plugins.
    let bound = tower::ServiceBuilder::new()
        .map_err(move |e: tower::BoxError| -> tower::BoxError {
            if e.is::<tower::timeout::error::Elapsed>() {
                Box::new(NoAnswer(timeout))
            } else {
                e
            }
        })
        .timeout(timeout);
    Ok(builder.with_layer(&bound).build())
}

/// The API server did not answer a request within `--request-timeout`.
#[derive(Debug, thiserror::Error)]
#[error("the API server did not answer within {} (--request-timeout)", crate::cli::duration::show(*.0))]
pub struct NoAnswer(pub Duration);

/// The words of a failed request for a user: kube's own prefixes ("ServiceError: ",
/// "ApiError: " and a debug dump of the Status) say nothing to them.
pub fn error_text(e: &kube::Error) -> String {
    match e {
        kube::Error::Service(inner)
            if inner.is::<NoAnswer>() || inner.is::<reflector::EndlessList>() =>
        {
            inner.to_string()
        }
        kube::Error::Api(status) => {
            format!("HTTP {} {}: {}", status.code, status.reason, status.message)
        }
        other => other.to_string(),
    }
}

/// One kind of a backup system's API group that is listed and watched.
#[derive(Debug, Clone, Copy)]
pub struct Read {
    pub kind: &'static str,
    /// The resource name in URLs and RBAC rules (discovery confirms it at run time).
    pub plural: &'static str,
    pub record: RecordKind,
}

const fn read(kind: &'static str, plural: &'static str, record: RecordKind) -> Read {
    Read {
        kind,
        plural,
        record,
    }
}

/// What is read of the ACK backup center (group [`ack::GROUP`]), in its namespace.
pub const ACK_READS: [Read; 4] = [
    read("BackupLocation", "backuplocations", RecordKind::Vault),
    read(
        "ApplicationBackup",
        "applicationbackups",
        RecordKind::Backup,
    ),
    read("BackupSchedule", "backupschedules", RecordKind::Schedule),
    read(
        "ApplicationRestore",
        "applicationrestores",
        RecordKind::Restore,
    ),
];

/// What is read of Velero (group [`velero::GROUP`]) in each of its namespaces; the first,
/// BackupStorageLocation, is also listed across namespaces to find them.
pub const VELERO_READS: [Read; 5] = [
    read(
        "BackupStorageLocation",
        "backupstoragelocations",
        RecordKind::Vault,
    ),
    read("Backup", "backups", RecordKind::Backup),
    read("Schedule", "schedules", RecordKind::Schedule),
    read("Restore", "restores", RecordKind::Restore),
    read(
        "PodVolumeBackup",
        "podvolumebackups",
        RecordKind::PodVolumeBackup,
    ),
];

/// The verbs every target is read with: paginated lists, then a watch (`reflector`).
pub const READ_VERBS: [&str; 2] = ["list", "watch"];

/// (API group, resource) of every built-in kind read in the backup centers' namespaces: the
/// components' workloads and pods, and the Warning events.
pub fn builtin_reads() -> [(&'static str, &'static str); 4] {
    fn of<K: k8s_openapi::Resource>() -> (&'static str, &'static str) {
        (K::GROUP, K::URL_PATH_SEGMENT)
    }
    [
        of::<Deployment>(),
        of::<DaemonSet>(),
        of::<Pod>(),
        of::<CoreEvent>(),
    ]
}

fn builtin<K: kube::Resource<DynamicType = ()>>() -> ApiResource {
    ApiResource::erase::<K>(&())
}

/// What discovery found: the targets to read, and the backup systems' API groups it could
/// not ask about (their objects stay unread until a later discovery succeeds).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub targets: Vec<Target>,
    /// (group, why) for each API group that is served but whose discovery failed.
    pub unavailable: Vec<(String, String)>,
}

/// Discovers which backup systems the cluster serves and plans what to read. A missing CRD
/// group means that backup system is absent, not an error; a group whose discovery fails
/// (an aggregated API that is down, a timeout) is left out and named in
/// [`Plan::unavailable`], so one broken group does not stop the others being read.
pub async fn plan(client: &Client, args: &KubeArgs) -> anyhow::Result<Plan> {
    let groups = client
        .list_api_groups()
        .await
        .map_err(|e| anyhow::anyhow!("API discovery failed: {}", error_text(&e)))?;
    let mut unavailable = Vec::new();
    let mut targets = Vec::new();
    let mut namespaces: Vec<String> = Vec::new();

    let ack_group = discover_group(client, &groups, ack::GROUP, &mut unavailable).await;
    let velero_group = discover_group(client, &groups, velero::GROUP, &mut unavailable).await;

    if let Some(group) = &ack_group {
        let ns = &args.ack_namespace;
        namespaces.push(ns.clone());
        for read in ACK_READS {
            if let Some((ar, _)) = group.recommended_kind(read.kind) {
                targets.push(target(ar, ns, read.record, Some(Engine::Ack)));
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
            for read in VELERO_READS {
                if let Some((ar, _)) = group.recommended_kind(read.kind) {
                    targets.push(target(ar, ns, read.record, Some(Engine::Velero)));
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
    Ok(Plan {
        targets,
        unavailable,
    })
}

/// The group's resources, or `None` when it is not served or its discovery failed (then
/// recorded in `unavailable`).
async fn discover_group(
    client: &Client,
    groups: &k8s_openapi::apimachinery::pkg::apis::meta::v1::APIGroupList,
    name: &str,
    unavailable: &mut Vec<(String, String)>,
) -> Option<kube::discovery::ApiGroup> {
    if !groups.groups.iter().any(|g| g.name == name) {
        tracing::info!(group = name, "not installed");
        return None;
    }
    match kube::discovery::group(client, name).await {
        Ok(group) => Some(group),
        Err(e) => {
            unavailable.push((name.to_string(), error_text(&e)));
            None
        }
    }
}

/// The source label of discovery in `backupscope_source_up` and `/readyz`.
pub const DISCOVERY: &str = "discovery";

/// Keeps discovering until every backup system's API group has been read, starting a watch
/// for each target as soon as it is known, and reports discovery's state as the source
/// [`DISCOVERY`]: `serve` rides out an API server that is down at start (or one API group
/// that is) instead of exiting. Runs until aborted; aborting it stops the watches too.
pub async fn follow(
    client: Client,
    args: KubeArgs,
    inventory: Arc<RwLock<Inventory>>,
    health: Arc<SourceHealth>,
) {
    health.register(DISCOVERY);
    let mut watches = tokio::task::JoinSet::new();
    let mut started: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut backoff = reflector::Backoff::new();
    loop {
        match plan(&client, &args).await {
            Ok(plan) => {
                for t in plan.targets {
                    if started.insert(t.source.clone()) {
                        watches.spawn(watch_task(&client, t, args.page_size, &inventory, &health));
                    }
                }
                if plan.unavailable.is_empty() {
                    health.up(DISCOVERY);
                    health.synced(DISCOVERY);
                    break;
                }
                // What could be read is being read: ready, but discovery is down and retried.
                let why: Vec<String> = plan
                    .unavailable
                    .iter()
                    .map(|(group, e)| format!("API group {group}: {e}"))
                    .collect();
                health.down(DISCOVERY, &why.join("; "));
            }
            Err(e) => health.failing(DISCOVERY, &format!("{e:#}")),
        }
        backoff.wait().await;
    }
    // Watches never end by themselves; keep them owned so aborting this task stops them.
    while watches.join_next().await.is_some() {}
}

/// One target's list+watch loop, registered in `health`, in a span naming the source.
fn watch_task(
    client: &Client,
    t: Target,
    page_size: u32,
    inventory: &Arc<RwLock<Inventory>>,
    health: &Arc<SourceHealth>,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    health.register(&t.source);
    let span = tracing::info_span!("watch", source = %t.source);
    let fut = reflector::run(
        client.clone(),
        t,
        page_size,
        inventory.clone(),
        health.clone(),
    );
    tracing::Instrument::instrument(fut, span)
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
    let Some((ar, _)) = group.recommended_kind(VELERO_READS[0].kind) else {
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
            // A token handed out twice means a list that never ends: keep what was read.
            Some(token)
                if !token.is_empty() && params.continue_token.as_deref() != Some(&token) =>
            {
                params = params.continue_token(&token)
            }
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
        let listed = reflector::list_pages(client, t, page_size, |listed| {
            if let reflector::Listed::Object(o) = listed {
                objects.push((i, o));
            }
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
        other => format!(
            "reading {resource} in namespace {}: {}",
            t.namespace,
            error_text(other)
        ),
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
        .map(|t| tokio::spawn(watch_task(client, t, page_size, &inventory, &health)))
        .collect()
}
