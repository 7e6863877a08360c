//! The working components of each backup center, and the Kubernetes objects that show their
//! health: Deployments, DaemonSets, their Pods, and non-Normal Events.

use super::fields::{self, string};
use crate::model::{
    ComponentMatch, ContainerSpec, ContainerStatus, Engine, MatchedBy, Pod, PodOwner, Record,
    Resources, Termination, WarningEvent, Workload, WorkloadKind, quantity,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

type Labels = BTreeMap<String, String>;

/// A component the backup center needs (or may have), and how the installers that deploy it
/// name and label it (see docs/model.md, "Working components").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentSpec {
    pub name: &'static str,
    pub engine: Engine,
    pub kind: WorkloadKind,
    /// Where the installer puts it; `None`: wherever the engine is installed.
    pub namespace: Option<&'static str>,
    /// A missing required component is `NotFound`; a missing optional one is not reported.
    pub required: bool,
    /// Pod label sets that name this component and no other (any one matches).
    pub pod_selectors: &'static [&'static [(&'static str, &'static str)]],
    /// Workload names installers give it.
    pub names: &'static [&'static str],
    /// Whether `<release>-<name>` names it too: the Velero Helm chart before 11.0 called the
    /// Deployment by its fullname, `<release>-velero`.
    pub release_prefixed: bool,
    /// Names of its main container.
    pub containers: &'static [&'static str],
}

pub const COMPONENTS: &[ComponentSpec] = &[
    ComponentSpec {
        name: "migrate-controller",
        engine: Engine::Ack,
        kind: WorkloadKind::Deployment,
        namespace: Some("kube-system"),
        required: true,
        pod_selectors: &[&[("app", "migrate-controller")]],
        names: &["migrate-controller"],
        release_prefixed: false,
        containers: &["migrate-controller"],
    },
    ComponentSpec {
        name: "csdr-controller",
        engine: Engine::Ack,
        kind: WorkloadKind::Deployment,
        namespace: Some("csdr"),
        required: true,
        pod_selectors: &[
            &[("control-plane", "csdr-controller")],
            &[("app", "csdr-controller")],
        ],
        names: &["csdr-controller"],
        release_prefixed: false,
        containers: &["csdr-controller"],
    },
    ComponentSpec {
        name: "csdr-velero",
        engine: Engine::Ack,
        kind: WorkloadKind::Deployment,
        namespace: Some("csdr"),
        required: true,
        pod_selectors: &[&[("component", "csdr")]],
        names: &["csdr-velero"],
        release_prefixed: false,
        // ACK's docs exec into it with `-c velero`.
        containers: &["velero"],
    },
    ComponentSpec {
        name: "hbr-client",
        engine: Engine::Ack,
        kind: WorkloadKind::DaemonSet,
        namespace: Some("csdr"),
        required: false,
        pod_selectors: &[&[("app", "hbr-client")]],
        names: &["hbr-client"],
        release_prefixed: false,
        containers: &["hbr-client"],
    },
    ComponentSpec {
        name: "velero",
        engine: Engine::Velero,
        kind: WorkloadKind::Deployment,
        namespace: None,
        required: true,
        // `velero install` and OADP: `deploy=velero`; the Helm chart: `name=velero`.
        pod_selectors: &[&[("deploy", "velero")], &[("name", "velero")]],
        names: &["velero"],
        release_prefixed: true,
        containers: &["velero"],
    },
    ComponentSpec {
        name: "node-agent",
        engine: Engine::Velero,
        kind: WorkloadKind::DaemonSet,
        namespace: None,
        required: false,
        // Before Velero 1.10 the node agent was the `restic` DaemonSet.
        pod_selectors: &[
            &[("name", "node-agent")],
            &[("role", "node-agent")],
            &[("name", "restic")],
        ],
        // Velero 1.16+ installs a second DaemonSet for Windows nodes.
        names: &["node-agent", "node-agent-windows", "restic"],
        release_prefixed: false,
        containers: &["node-agent", "node-agent-windows", "restic"],
    },
];

/// Labels that tie an object to an engine but not to one component: everything `velero
/// install` and OADP create carries `component=velero`, everything the Helm chart creates
/// `app.kubernetes.io/name=velero`. The workload kind then tells the server (Deployment) from
/// the node agent (DaemonSet).
const ENGINE_LABELS: &[(Engine, &str, &str)] = &[
    (Engine::Velero, "component", "velero"),
    (Engine::Velero, "app.kubernetes.io/name", "velero"),
];

impl ComponentSpec {
    pub fn lives_in(&self, namespace: &str) -> bool {
        self.namespace.is_none_or(|ns| ns == namespace)
    }

    pub fn matches_pod_labels(&self, labels: &Labels) -> bool {
        self.pod_selectors
            .iter()
            .any(|sel| selector_matches(sel, labels))
    }

    /// Whether an installer would give its workload this name.
    pub fn is_named(&self, name: &str) -> bool {
        self.names.iter().any(|n| {
            name == *n
                || (self.release_prefixed
                    && !COMPONENTS.iter().any(|c| c.names.contains(&name))
                    && name
                        .strip_suffix(n)
                        .is_some_and(|release| release.len() > 1 && release.ends_with('-')))
        })
    }
}

/// The catalogue entry of a component name.
pub fn spec(name: &str) -> Option<&'static ComponentSpec> {
    COMPONENTS.iter().find(|c| c.name == name)
}

fn selector_matches(selector: &[(&str, &str)], labels: &Labels) -> bool {
    selector
        .iter()
        .all(|(k, v)| labels.get(*k).is_some_and(|l| l == v))
}

/// What an object shows about which component it is.
struct Evidence<'a> {
    namespace: &'a str,
    /// The workload kind (for a pod: its owner's), when known.
    kind: Option<WorkloadKind>,
    labels: &'a [&'a Labels],
    /// The workload's name (for a pod: its owner's).
    name: Option<&'a str>,
    containers: &'a BTreeSet<String>,
}

/// The component an object is: by the labels installers set, then by the workload's name,
/// then by container name. Candidates are tried in catalogue order, so in `csdr` ACK's
/// csdr-velero (container `velero`) wins over upstream Velero.
fn identify(e: &Evidence) -> Option<ComponentMatch> {
    let candidates = || {
        COMPONENTS
            .iter()
            .filter(|c| c.lives_in(e.namespace) && e.kind.is_none_or(|k| k == c.kind))
    };
    let found = |c: &'static ComponentSpec, by| {
        Some(ComponentMatch {
            component: c.name,
            by,
        })
    };
    if let Some(c) = candidates().find(|c| e.labels.iter().any(|l| c.matches_pod_labels(l))) {
        return found(c, MatchedBy::Labels);
    }
    if let Some(kind) = e.kind.filter(|_| !names_another(e.labels)) {
        let engine = ENGINE_LABELS.iter().find_map(|(engine, k, v)| {
            e.labels
                .iter()
                .any(|l| l.get(*k).is_some_and(|l| l == v))
                .then_some(*engine)
        });
        if let Some(c) =
            engine.and_then(|engine| candidates().find(|c| c.engine == engine && c.kind == kind))
        {
            return found(c, MatchedBy::Labels);
        }
    }
    if let Some(c) = e.name.and_then(|n| candidates().find(|c| c.is_named(n))) {
        return found(c, MatchedBy::Name);
    }
    candidates()
        .find(|c| c.containers.iter().any(|n| e.containers.contains(*n)))
        .and_then(|c| found(c, MatchedBy::Container))
}

/// Labels that name the object itself (`velero install` sets `deploy` and `name`, the Helm
/// chart `name`, on the pods it creates).
const OWN_NAME_LABELS: &[&str] = &["name", "deploy"];

/// Whether an own-name label names something no component is called: such an object only
/// shares the engine's labels. Velero's vSphere plugin labels its `backup-driver` Deployment
/// and `datamgr-for-vsphere-plugin` DaemonSet `component=velero`, in Velero's namespace.
fn names_another(labels: &[&Labels]) -> bool {
    labels.iter().any(|l| {
        OWN_NAME_LABELS
            .iter()
            .filter_map(|k| l.get(*k))
            .any(|name| !COMPONENTS.iter().any(|c| c.names.contains(&name.as_str())))
    })
}

fn container_names<'a>(list: impl IntoIterator<Item = &'a Value>) -> BTreeSet<String> {
    list.into_iter()
        .map(|c| string(c, &["name"]))
        .filter(|n| !n.is_empty())
        .collect()
}

fn array<'a>(obj: &'a Value, path: &[&str]) -> &'a [Value] {
    fields::at(obj, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// Deployments and DaemonSets are kept only when they run a catalogued component.
pub fn map_workload(kind: WorkloadKind, obj: &Value) -> Option<Record> {
    let namespace = fields::namespace(obj);
    let name = fields::name(obj);
    let labels = fields::string_map(obj, &["metadata", "labels"]);
    let template_labels = fields::string_map(obj, &["spec", "template", "metadata", "labels"]);
    let selector = fields::string_map(obj, &["spec", "selector", "matchLabels"]);
    let raw_containers = array(obj, &["spec", "template", "spec", "containers"]);
    let component = identify(&Evidence {
        namespace: &namespace,
        kind: Some(kind),
        labels: &[&template_labels, &selector, &labels],
        name: Some(&name),
        containers: &container_names(raw_containers),
    })?;
    let (desired, ready, available) = match kind {
        WorkloadKind::Deployment => (
            // `spec.replicas` defaults to 1 when unset.
            fields::count(obj, &["spec", "replicas"]).unwrap_or(1),
            fields::count(obj, &["status", "readyReplicas"]).unwrap_or(0),
            fields::count(obj, &["status", "availableReplicas"]).unwrap_or(0),
        ),
        WorkloadKind::DaemonSet => (
            fields::count(obj, &["status", "desiredNumberScheduled"]).unwrap_or(0),
            fields::count(obj, &["status", "numberReady"]).unwrap_or(0),
            fields::count(obj, &["status", "numberAvailable"]).unwrap_or(0),
        ),
    };
    let containers = unique_names(raw_containers, container_spec, |c| &mut c.name);
    let args = raw_containers
        .iter()
        .flat_map(|c| fields::strings(c, &["args"]))
        .collect();
    Some(Record::Workload(Workload {
        kind,
        namespace,
        name,
        created: fields::created(obj),
        labels,
        component,
        selector,
        desired,
        ready,
        available,
        containers,
        args,
    }))
}

/// The container entries of one pod or template, with unique names, so that per-container
/// series never repeat: entries that are not objects (null) are skipped, a nameless one is
/// called `<unnamed-N>` (N: its place among the objects; `<` is outside DNS labels, so no real
/// container has that name), and of entries that share a name the first is kept. The API
/// server never sends either; hand-edited bundles do.
fn unique_names<T>(
    list: &[Value],
    read: impl Fn(&Value) -> T,
    name: impl Fn(&mut T) -> &mut String,
) -> Vec<T> {
    let mut seen = BTreeSet::new();
    list.iter()
        .filter(|c| c.is_object())
        .enumerate()
        .filter_map(|(i, c)| {
            let mut item = read(c);
            let n = name(&mut item);
            if n.is_empty() {
                *n = format!("<unnamed-{i}>");
            }
            seen.insert(n.clone()).then_some(item)
        })
        .collect()
}

fn resources(c: &Value, which: &str) -> Resources {
    let q = |r: &str| quantity::parse(&string(c, &["resources", which, r]));
    Resources {
        cpu: q("cpu"),
        memory: q("memory"),
    }
}

fn container_spec(c: &Value) -> ContainerSpec {
    ContainerSpec {
        name: string(c, &["name"]),
        image: string(c, &["image"]),
        requests: resources(c, "requests"),
        limits: resources(c, "limits"),
    }
}

/// Labels the Job controller sets on the pods it creates (`controller-uid` and `job-name`
/// before Kubernetes 1.27, the `batch.kubernetes.io/` ones since).
const JOB_LABELS: &[&str] = &[
    "batch.kubernetes.io/job-name",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "controller-uid",
];

/// The workload that runs a pod. `Err` when the pod's controller is something no component
/// runs as (a Job such as Helm's upgrade-crds hook or Velero's repository maintenance, a
/// DataUpload's data-mover pod): such a pod is never a component, whatever its labels say.
fn pod_owner(obj: &Value, labels: &Labels) -> Result<Option<PodOwner>, ()> {
    let owners = array(obj, &["metadata", "ownerReferences"]);
    let controller = owners
        .iter()
        .find(|o| fields::boolean(o, &["controller"]) == Some(true))
        .or(owners.first());
    let hash = labels.get("pod-template-hash").map(String::as_str);
    if let Some(owner) = controller {
        let name = string(owner, &["name"]);
        return match string(owner, &["kind"]).as_str() {
            "ReplicaSet" => Ok(deployment_of(&name, hash).map(|name| PodOwner {
                kind: WorkloadKind::Deployment,
                name,
            })),
            "DaemonSet" => Ok(Some(PodOwner {
                kind: WorkloadKind::DaemonSet,
                name,
            })),
            _ => Err(()),
        };
    }
    // No ownerReferences (a bundle that stripped them): the Job controller's labels still
    // tell a Job's pod (Helm's `<release>-upgrade-crds` runs a container named `velero`).
    if JOB_LABELS.iter().any(|k| labels.contains_key(*k)) {
        return Err(());
    }
    // The generated name tells the rest, `<deployment>-<pod-template-hash>-<suffix>` or
    // `<daemonset>-<suffix>`.
    let generate = string(obj, &["metadata", "generateName"]);
    let base = generate.strip_suffix('-').unwrap_or(&generate);
    if base.is_empty() {
        return Ok(None);
    }
    if hash.is_some() {
        return Ok(deployment_of(base, hash).map(|name| PodOwner {
            kind: WorkloadKind::Deployment,
            name,
        }));
    }
    Ok(labels
        .contains_key("pod-template-generation")
        .then(|| PodOwner {
            kind: WorkloadKind::DaemonSet,
            name: base.to_string(),
        }))
}

/// The Deployment of a ReplicaSet named `<deployment>-<pod-template-hash>`.
fn deployment_of(replicaset: &str, hash: Option<&str>) -> Option<String> {
    let deployment = match hash {
        Some(h) if !h.is_empty() => replicaset.strip_suffix(h)?.strip_suffix('-')?,
        _ => replicaset.rsplit_once('-')?.0,
    };
    (!deployment.is_empty()).then(|| deployment.to_string())
}

/// Pods are kept only when they belong to a catalogued component: by their labels, by the
/// workload that owns them, or by a container name.
pub fn map_pod(obj: &Value) -> Option<Record> {
    let namespace = fields::namespace(obj);
    let name = fields::name(obj);
    let labels = fields::string_map(obj, &["metadata", "labels"]);
    let owner = pod_owner(obj, &labels).ok()?;
    let statuses = array(obj, &["status", "containerStatuses"]);
    let names = container_names(array(obj, &["spec", "containers"]).iter().chain(statuses));
    let component = identify(&Evidence {
        namespace: &namespace,
        kind: owner.as_ref().map(|o| o.kind),
        labels: &[&labels],
        name: owner.as_ref().map(|o| o.name.as_str()),
        containers: &names,
    })?;
    let containers = unique_names(statuses, container_status, |c| &mut c.name);
    Some(Record::Pod(Pod {
        namespace,
        name,
        created: fields::created(obj),
        labels,
        component,
        owner,
        node: string(obj, &["spec", "nodeName"]),
        phase: string(obj, &["status", "phase"]),
        containers,
    }))
}

fn container_status(c: &Value) -> ContainerStatus {
    let last = fields::at(c, &["lastState", "terminated"])
        .filter(|t| t.is_object())
        .map(|t| Termination {
            reason: string(t, &["reason"]),
            exit_code: fields::integer(t, &["exitCode"]).unwrap_or(0),
            finished: fields::time(t, &["finishedAt"]),
        });
    ContainerStatus {
        name: string(c, &["name"]),
        image: string(c, &["image"]),
        ready: fields::boolean(c, &["ready"]).unwrap_or(false),
        restarts: fields::count(c, &["restartCount"]).unwrap_or(0),
        waiting_reason: string(c, &["state", "waiting", "reason"]),
        last_termination: last,
    }
}

/// Core `v1` and `events.k8s.io/v1` events; Normal events are not kept.
pub fn map_event(obj: &Value, events_api: bool) -> Option<Record> {
    let event_type = string(obj, &["type"]);
    if event_type == "Normal" {
        return None;
    }
    let involved = if events_api {
        "regarding"
    } else {
        "involvedObject"
    };
    let count = if events_api {
        fields::count(obj, &["series", "count"])
            .or_else(|| fields::count(obj, &["deprecatedCount"]))
    } else {
        fields::count(obj, &["count"])
    };
    let message = if events_api {
        string(obj, &["note"])
    } else {
        string(obj, &["message"])
    };
    let first = fields::time(obj, &["firstTimestamp"])
        .or_else(|| fields::time(obj, &["deprecatedFirstTimestamp"]))
        .or_else(|| fields::time(obj, &["eventTime"]));
    let last = fields::time(obj, &["lastTimestamp"])
        .or_else(|| fields::time(obj, &["series", "lastObservedTime"]))
        .or_else(|| fields::time(obj, &["deprecatedLastTimestamp"]))
        .or(first);
    let source = ["reportingComponent", "reportingController"]
        .iter()
        .map(|f| string(obj, &[f]))
        .chain([string(obj, &["source", "component"])])
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    Some(Record::Event(WarningEvent {
        namespace: fields::namespace(obj),
        name: fields::name(obj),
        event_type,
        involved_kind: string(obj, &[involved, "kind"]),
        involved_name: string(obj, &[involved, "name"]),
        involved_namespace: string(obj, &[involved, "namespace"]),
        reason: string(obj, &["reason"]),
        message,
        count: count.unwrap_or(1),
        first,
        last,
        source,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workload_outside_catalogue_is_ignored() {
        let d = json!({"metadata": {"name": "nginx", "namespace": "csdr"}});
        assert!(map_workload(WorkloadKind::Deployment, &d).is_none());
        let d = json!({"metadata": {"name": "csdr-velero", "namespace": "default"}});
        assert!(
            map_workload(WorkloadKind::Deployment, &d).is_none(),
            "wrong namespace"
        );
    }

    #[test]
    fn deployment_resources_and_replicas() {
        let d = json!({"metadata": {"name": "csdr-velero", "namespace": "csdr"},
            "spec": {"selector": {"matchLabels": {"component": "csdr"}},
                     "template": {"spec": {"containers": [{"name": "velero", "image": "v:1",
                        "resources": {"requests": {"cpu": "500m", "memory": "128Mi"},
                                      "limits": {"cpu": "1", "memory": "2Gi"}}}]}}},
            "status": {"readyReplicas": 1}});
        let Some(Record::Workload(w)) = map_workload(WorkloadKind::Deployment, &d) else {
            panic!("no workload")
        };
        assert_eq!((w.desired, w.ready), (1, 1));
        assert_eq!(w.containers[0].requests.cpu, Some(0.5));
        assert_eq!(w.containers[0].limits.memory, Some(2147483648.0));
    }

    #[test]
    fn pod_with_oom_kill() {
        let p = json!({"metadata": {"name": "csdr-velero-7d9f-abcde", "namespace": "csdr",
                                    "labels": {"component": "csdr"}},
            "spec": {"nodeName": "node-1"},
            "status": {"phase": "Running", "containerStatuses": [{"name": "velero", "ready": true,
                "restartCount": 2, "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}});
        let Some(Record::Pod(p)) = map_pod(&p) else {
            panic!("no pod")
        };
        let c = &p.containers[0];
        assert_eq!(c.restarts, 2);
        assert_eq!(c.last_termination.as_ref().map(|t| t.exit_code), Some(137));
        let other =
            json!({"metadata": {"name": "shop-1", "namespace": "csdr", "labels": {"app": "shop"}}});
        assert!(map_pod(&other).is_none());
    }

    #[test]
    fn names_installers_give() {
        let velero = spec("velero").unwrap();
        assert!(velero.is_named("velero"));
        assert!(
            velero.is_named("prod-velero"),
            "Helm chart < 11: <release>-velero"
        );
        assert!(!velero.is_named("-velero"));
        assert!(!velero.is_named("velero-ui"));
        assert!(
            !velero.is_named("csdr-velero"),
            "another component's own name"
        );
        assert!(spec("node-agent").unwrap().is_named("restic"));
        assert!(!spec("node-agent").unwrap().is_named("prod-node-agent"));
    }

    #[test]
    fn replicaset_names_the_deployment() {
        assert_eq!(
            deployment_of("prod-velero-6b9f8d7c5d", Some("6b9f8d7c5d")).as_deref(),
            Some("prod-velero")
        );
        // Without the hash label: the last dash-separated part is the hash.
        assert_eq!(
            deployment_of("prod-velero-6b9f8d7c5d", None).as_deref(),
            Some("prod-velero")
        );
        // A hash label that does not end the name: not this ReplicaSet's hash.
        assert_eq!(deployment_of("prod-velero-6b9f8d7c5d", Some("abc")), None);
        assert_eq!(deployment_of("nodash", None), None);
    }

    fn pod_component(p: &Value) -> Option<(&'static str, MatchedBy, Option<PodOwner>)> {
        match map_pod(p) {
            Some(Record::Pod(p)) => Some((p.component.component, p.component.by, p.owner)),
            _ => None,
        }
    }

    #[test]
    fn pods_by_labels_owner_and_container() {
        // Engine label alone: the owner's kind decides server or node agent.
        let p = json!({"metadata": {"name": "x-1", "namespace": "velero",
            "labels": {"app.kubernetes.io/name": "velero"},
            "ownerReferences": [{"kind": "DaemonSet", "name": "agents", "controller": true}]}});
        assert_eq!(
            pod_component(&p),
            Some((
                "node-agent",
                MatchedBy::Labels,
                Some(PodOwner {
                    kind: WorkloadKind::DaemonSet,
                    name: "agents".into()
                })
            ))
        );
        // No ownerReferences: generateName and pod-template-hash name the Deployment.
        let p = json!({"metadata": {"name": "prod-velero-6b9f8d7c5d-x2x7k", "namespace": "velero",
            "generateName": "prod-velero-6b9f8d7c5d-",
            "labels": {"pod-template-hash": "6b9f8d7c5d"}}});
        assert_eq!(
            pod_component(&p).map(|(c, by, o)| (c, by, o.map(|o| o.name))),
            Some(("velero", MatchedBy::Name, Some("prod-velero".into())))
        );
        // Container `velero` in csdr is ACK's csdr-velero, elsewhere upstream Velero.
        let bare = |ns: &str| {
            json!({"metadata": {"name": "p", "namespace": ns},
                "spec": {"containers": [{"name": "velero"}]}})
        };
        assert_eq!(
            pod_component(&bare("csdr")).map(|c| c.0),
            Some("csdr-velero")
        );
        assert_eq!(pod_component(&bare("backup")).map(|c| c.0), Some("velero"));
        // A Job's pod is never a component, even with the server's labels.
        let job = json!({"metadata": {"name": "velero-maintain-1", "namespace": "velero",
            "labels": {"deploy": "velero"},
            "ownerReferences": [{"kind": "Job", "name": "velero-maintain", "controller": true}]},
            "spec": {"containers": [{"name": "velero"}]}});
        assert_eq!(pod_component(&job), None);
    }

    #[test]
    fn objects_that_only_share_the_engine_labels_are_no_component() {
        // velero-plugin-for-vsphere: `component=velero` on workloads named for themselves.
        let workload = |name: &str| {
            json!({"metadata": {"name": name, "namespace": "velero",
                "labels": {"component": "velero"}},
                "spec": {"selector": {"matchLabels": {"name": name}},
                    "template": {"metadata": {"labels": {"component": "velero", "name": name}},
                        "spec": {"containers": [{"name": name}]}}}})
        };
        assert!(map_workload(WorkloadKind::Deployment, &workload("backup-driver")).is_none());
        assert!(
            map_workload(
                WorkloadKind::DaemonSet,
                &workload("datamgr-for-vsphere-plugin")
            )
            .is_none()
        );
        // The same labels on what `velero install` creates still name the server.
        let Some(Record::Workload(w)) = map_workload(WorkloadKind::Deployment, &workload("velero"))
        else {
            panic!("velero is the server")
        };
        assert_eq!(w.component.component, "velero");
        // A Job's pod whose ownerReferences a bundle stripped: its Job labels still tell.
        for label in JOB_LABELS {
            let p = json!({"metadata": {"name": "prod-velero-upgrade-crds-8qzvn",
                "namespace": "velero", "generateName": "prod-velero-upgrade-crds-",
                "labels": {*label: "prod-velero-upgrade-crds"}},
                "spec": {"containers": [{"name": "velero"}]}});
            assert_eq!(pod_component(&p), None, "{label}");
        }
        // Velero 1.16's Windows node agent.
        assert!(spec("node-agent").unwrap().is_named("node-agent-windows"));
    }

    #[test]
    fn events_both_apis_normal_dropped() {
        let normal = json!({"type": "Normal", "metadata": {"name": "e"}});
        assert!(map_event(&normal, false).is_none());
        let e = json!({"type": "Warning", "metadata": {"name": "e", "namespace": "csdr"},
            "regarding": {"kind": "ApplicationBackup", "name": "b"}, "note": "VaultError: x",
            "series": {"count": 4}, "reason": "BackupFailed"});
        let Some(Record::Event(e)) = map_event(&e, true) else {
            panic!("no event")
        };
        assert_eq!((e.involved_name.as_str(), e.count), ("b", 4));
        assert_eq!(e.message, "VaultError: x");
    }
}
