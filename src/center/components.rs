//! The working components of the backup center: which Deployments, DaemonSets and Pods are
//! the engine's components, and how healthy each one is.

use super::BackupCenter;
use crate::dialect::components::{self as catalogue, COMPONENTS, ComponentSpec};
use crate::inventory::{Coverage, Inventory, NsName};
use crate::model::{
    ComponentMatch, ComponentStatus, Engine, MatchedBy, Pod, PodPhase, SharedStr, Workload,
    WorkloadKind,
};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// Container waiting reasons that mean the component cannot work, not that it is starting.
const BROKEN_WAITING_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
    "RunContainerError",
];

/// A working component in one namespace, with the objects that show its state.
#[derive(Debug, Clone)]
pub struct ComponentView<'a> {
    pub spec: &'static ComponentSpec,
    pub namespace: String,
    /// The Deployments or DaemonSets that run it, the one meant to run first; empty when the
    /// export holds only its pods (or nothing: then the status is `NotFound`). Usually one;
    /// more where one component runs as several workloads: the node agent's `node-agent` and
    /// `node-agent-windows` DaemonSets (Velero 1.16+), a `restic` DaemonSet left behind by the
    /// upgrade to 1.10, a Helm `<release>-velero` Deployment left beside chart 11's `velero`.
    pub workloads: Vec<&'a Workload>,
    pub pods: Vec<&'a Pod>,
    pub status: ComponentStatus,
}

impl<'a> ComponentView<'a> {
    /// The workload meant to run the component: its containers' resources and its name are
    /// the component's.
    pub fn workload(&self) -> Option<&'a Workload> {
        self.workloads.first().copied()
    }

    pub fn restarts(&self) -> u64 {
        self.pods
            .iter()
            .flat_map(|p| &p.containers)
            .map(|c| c.restarts)
            .sum()
    }

    /// When the component was created: the creation of the workload meant to run it (not of
    /// one left behind by an old install), else (pods only) its oldest running pod's (an
    /// Evicted pod outlives the one that replaced it).
    pub fn created(&self) -> Option<crate::model::Timestamp> {
        if let Some(w) = self.workload() {
            return w.created;
        }
        let oldest = |pods: &mut dyn Iterator<Item = &&Pod>| pods.filter_map(|p| p.created).min();
        oldest(&mut self.pods.iter().filter(|p| !is_done(p)))
            .or_else(|| oldest(&mut self.pods.iter()))
    }

    /// Pods that still run or are meant to (not Succeeded or Failed: an Evicted pod stays
    /// behind in phase Failed while its ReplicaSet starts another).
    pub fn live_pods(&self) -> impl Iterator<Item = &&'a Pod> {
        self.pods.iter().filter(|p| !is_done(p))
    }
}

fn is_done(pod: &Pod) -> bool {
    matches!(
        PodPhase::parse(&pod.phase),
        PodPhase::Succeeded | PodPhase::Failed
    )
}

/// The objects found for one component in one namespace.
type Found<'a> = BTreeMap<(usize, &'a str), (Vec<&'a Workload>, Vec<&'a Pod>)>;

/// A required component that a snapshot may simply not hold: the snapshot has none of the
/// backup center's workloads or pods in the namespace where it would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotExported {
    pub spec: &'static ComponentSpec,
    pub namespace: String,
}

impl<'a> BackupCenter<'a> {
    /// The working components of the engines present: one view per component and namespace
    /// where its workload or pods are, plus a `NotFound` view of each required component in
    /// every namespace of its engine that lacks it.
    pub fn components(&self) -> Vec<ComponentView<'a>> {
        self.components_and_not_exported().0
    }

    /// [`components`](Self::components), and the required components a snapshot says
    /// nothing about (see [`Coverage::Exported`]; always none on a live cluster), from one
    /// walk of the workloads and pods.
    pub fn components_and_not_exported(&self) -> (Vec<ComponentView<'a>>, Vec<NotExported>) {
        let engines = self.engines();
        let inv = self.inventory;
        let homes: BTreeMap<Engine, BTreeSet<&str>> = engines
            .iter()
            .map(|e| (*e, self.engine_homes(*e)))
            .collect();
        let shown = |m: ComponentMatch, ns: &str| {
            COMPONENTS
                .iter()
                .position(|c| c.name == m.component)
                .filter(|i| {
                    let c = &COMPONENTS[*i];
                    engines.contains(&c.engine)
                        && !self.is_mirror(c.engine, ns)
                        && (strong(m, c) || homes.get(&c.engine).is_some_and(|h| h.contains(ns)))
                })
        };
        let mut found: Found<'a> = BTreeMap::new();
        for w in inv.deployments.values().chain(inv.daemonsets.values()) {
            if let Some(i) = shown(w.component, &w.namespace) {
                found.entry((i, &w.namespace)).or_default().0.push(w);
            }
        }
        for p in inv.pods.values() {
            if let Some(i) = shown(pod_component(inv, p), &p.namespace) {
                found.entry((i, &p.namespace)).or_default().1.push(p);
            }
        }
        let exported: BTreeSet<&str> = found.keys().map(|(_, ns)| *ns).collect();
        let mut out = Vec::new();
        let mut not_exported = Vec::new();
        for (i, spec) in COMPONENTS.iter().enumerate() {
            if !engines.contains(&spec.engine) {
                continue;
            }
            let mut namespaces: BTreeSet<&str> = found
                .keys()
                .filter(|(c, _)| *c == i)
                .map(|(_, ns)| *ns)
                .collect();
            if spec.required {
                for ns in self.engine_namespaces(spec, &found) {
                    if inv.workload_coverage == Coverage::Exported && !exported.contains(ns) {
                        not_exported.push(NotExported {
                            spec,
                            namespace: ns.to_string(),
                        });
                    } else {
                        namespaces.insert(ns);
                    }
                }
            }
            for namespace in namespaces {
                let (mut workloads, pods) = found.remove(&(i, namespace)).unwrap_or_default();
                // The one meant to run first; all of them count for the pods desired and
                // ready, so a second workload that does not run shows.
                workloads.sort_by_key(|w| (w.desired == 0, Reverse(w.ready), &w.name));
                let mut view = ComponentView {
                    spec,
                    namespace: namespace.to_string(),
                    status: ComponentStatus::NotFound,
                    workloads,
                    pods,
                };
                view.status = component_status(&view);
                out.push(view);
            }
        }
        (out, not_exported)
    }

    /// Namespaces that hold `engine`'s backup objects (vaults, tasks, schedules, restores).
    fn object_namespaces(&self, engine: Engine) -> impl Iterator<Item = &'a str> + '_ {
        let inv = self.inventory;
        let task_namespaces = inv
            .task_index
            .counts
            .keys()
            .filter(move |(_, _, e)| *e == engine)
            .map(|(ns, _, _)| ns.as_str());
        namespaces_of(inv.vaults.get(engine))
            .chain(namespaces_of(inv.schedules.get(engine)))
            .chain(namespaces_of(inv.restores.get(engine)))
            .chain(task_namespaces)
            .filter(move |ns| !self.is_mirror(engine, ns))
    }

    /// Where `engine` is installed, by evidence a name alone cannot give: its backup objects,
    /// or a workload or pod whose installer labels name one of its components. An object
    /// that only is called `node-agent` or runs a container `velero` is the engine's only
    /// there: Kubescape's `node-agent` DaemonSet runs in `kubescape`.
    fn engine_homes(&self, engine: Engine) -> BTreeSet<&'a str> {
        let inv = self.inventory;
        let labelled = |m: ComponentMatch| {
            m.by == MatchedBy::Labels
                && catalogue::spec(m.component).is_some_and(|c| c.engine == engine)
        };
        let workloads = inv
            .deployments
            .values()
            .chain(inv.daemonsets.values())
            .filter(|w| labelled(w.component))
            .map(|w| w.namespace.as_str());
        let pods = inv
            .pods
            .values()
            .filter(|p| labelled(pod_component(inv, p)))
            .map(|p| p.namespace.as_str());
        self.object_namespaces(engine)
            .chain(workloads)
            .chain(pods)
            .collect()
    }

    /// Where a required component should be: its fixed namespace, else every namespace that
    /// holds its engine's backup objects or other components.
    fn engine_namespaces(&self, spec: &ComponentSpec, found: &Found<'a>) -> BTreeSet<&'a str> {
        if let Some(ns) = spec.namespace {
            return BTreeSet::from([ns]);
        }
        let engine = spec.engine;
        let component_namespaces = found
            .keys()
            .filter(|(i, _)| COMPONENTS[*i].engine == engine)
            .map(|(_, ns)| *ns);
        let mut namespaces: BTreeSet<&'a str> = self
            .object_namespaces(engine)
            .chain(component_namespaces)
            .collect();
        if namespaces.is_empty() {
            namespaces.insert(engine.as_str());
        }
        namespaces
    }
}

/// Whether a match names the component wherever it is found: by the labels installers set,
/// or for a component that lives in one fixed namespace (ACK's), where nothing else runs
/// under its names.
fn strong(m: ComponentMatch, spec: &ComponentSpec) -> bool {
    m.by == MatchedBy::Labels || spec.namespace.is_some()
}

/// The component a pod belongs to: what its labels say, else what the workload that owns it
/// is, else its own weaker evidence (its owner's name, a container name).
fn pod_component(inv: &Inventory, pod: &Pod) -> ComponentMatch {
    if pod.component.by == MatchedBy::Labels {
        return pod.component;
    }
    pod.owner
        .as_ref()
        .and_then(|o| {
            let workloads = match o.kind {
                WorkloadKind::Deployment => &inv.deployments,
                WorkloadKind::DaemonSet => &inv.daemonsets,
            };
            workloads.get(&(pod.namespace.as_str().into(), o.name.as_str().into()))
        })
        .map_or(pod.component, |w| w.component)
}

/// Whether a workload or pod of one of `engine`'s components is in the inventory, in a
/// namespace `counts` accepts, by evidence a name alone cannot give ([`strong`]). Engine
/// detection uses it, so a cluster that holds only a Helm `prod-velero` Deployment (or only
/// ACK's pods) is found, and one that runs only Kubescape's `node-agent` is not Velero.
pub(super) fn engine_seen(inv: &Inventory, engine: Engine, counts: impl Fn(&str) -> bool) -> bool {
    let of_engine = |m: ComponentMatch| {
        catalogue::spec(m.component).is_some_and(|c| c.engine == engine && strong(m, c))
    };
    inv.deployments
        .values()
        .chain(inv.daemonsets.values())
        .any(|w| of_engine(w.component) && counts(&w.namespace))
        || inv
            .pods
            .values()
            .any(|p| of_engine(pod_component(inv, p)) && counts(&p.namespace))
}

/// The distinct namespaces of a map keyed by (namespace, name), one lookup per namespace.
pub(super) fn namespaces_of<T>(map: &BTreeMap<NsName, T>) -> impl Iterator<Item = &str> {
    let mut next = map.keys().next();
    std::iter::from_fn(move || {
        let (ns, _) = next?;
        // `ns` followed by NUL is the least string greater than `ns`: the next namespace.
        next = map
            .range((SharedStr::from(format!("{ns}\0")), SharedStr::default())..)
            .next()
            .map(|(k, _)| k);
        Some(ns.as_str())
    })
}

fn component_status(view: &ComponentView) -> ComponentStatus {
    if view.workloads.is_empty() && view.pods.is_empty() {
        return ComponentStatus::NotFound;
    }
    let broken = view
        .live_pods()
        .flat_map(|p| &p.containers)
        .any(|c| BROKEN_WAITING_REASONS.contains(&c.waiting_reason.as_str()));
    let (desired, ready) = (view.pods_desired(), view.pods_ready());
    if desired > 0 && ready >= desired && !broken {
        ComponentStatus::Health
    } else {
        ComponentStatus::UnHealth
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::center::tests::{ack_backup, inventory, now};
    use serde_json::{Value, json};

    #[test]
    fn component_health_rules() {
        let deploy = |ready: u64| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "csdr-velero", "namespace": "csdr"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"component": "csdr"}}},
                "status": {"readyReplicas": ready}})
        };
        let pod = |waiting: &str| {
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "csdr-velero-x", "namespace": "csdr", "labels": {"component": "csdr"}},
                "status": {"phase": "Running", "containerStatuses": [{"name": "velero", "restartCount": 3,
                    "state": {"waiting": {"reason": waiting}}}]}})
        };
        let status = |objs: Vec<Value>| {
            let inv = inventory(objs);
            let c = BackupCenter::new(&inv, now());
            c.components()
                .into_iter()
                .find(|v| v.spec.name == "csdr-velero")
                .map(|v| (v.status, v.restarts()))
        };
        assert_eq!(
            status(vec![deploy(1), pod("")]),
            Some((ComponentStatus::Health, 3))
        );
        assert_eq!(
            status(vec![deploy(0), pod("")]),
            Some((ComponentStatus::UnHealth, 3))
        );
        assert_eq!(
            status(vec![deploy(1), pod("CrashLoopBackOff")]),
            Some((ComponentStatus::UnHealth, 3))
        );
        // ACK detected through a task only: the required components are reported NotFound.
        assert_eq!(
            status(vec![ack_backup("a", "Completed", "")]),
            Some((ComponentStatus::NotFound, 0))
        );
    }

    #[test]
    fn pods_only_age_and_readiness() {
        let pod = |name: &str, created: &str, ready: bool| {
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "velero", "creationTimestamp": created,
                             "labels": {"deploy": "velero"}},
                "status": {"phase": "Running", "containerStatuses": [
                    {"name": "velero", "ready": ready, "restartCount": 0}]}})
        };
        let inv = inventory(vec![
            pod("velero-1", "2026-11-20T00:00:00Z", true),
            pod("velero-2", "2026-11-18T00:00:00Z", false),
        ]);
        let c = BackupCenter::new(&inv, now());
        let views = c.components();
        let [v] = views.as_slice() else {
            panic!("one view expected: {views:?}")
        };
        assert!(v.workload().is_none());
        assert_eq!(v.created(), Some("2026-11-18T00:00:00Z".parse().unwrap()));
        assert_eq!(
            v.pods_ready(),
            1,
            "the not-ready pod is Running but not ready"
        );
        assert_eq!(v.status, ComponentStatus::UnHealth);
    }

    fn velero_backup() -> Value {
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": "b", "namespace": "velero"},
            "spec": {"storageLocation": "default"}, "status": {"phase": "Completed"}})
    }

    fn daemonset(ns: &str, name: &str, labels: Value, desired: u64, ready: u64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": ns, "labels": labels.clone(),
                "creationTimestamp": "2026-10-01T00:00:00Z"},
            "spec": {"selector": {"matchLabels": labels.clone()},
                "template": {"metadata": {"labels": labels},
                    "spec": {"containers": [{"name": name}]}}},
            "status": {"desiredNumberScheduled": desired, "numberReady": ready}})
    }

    #[test]
    fn a_snapshot_without_workloads_says_nothing_about_components() {
        let mut inv = inventory(vec![velero_backup()]);
        let listed = |inv: &Inventory| {
            let c = BackupCenter::new(inv, now());
            let (views, not_exported) = c.components_and_not_exported();
            let views: Vec<_> = views
                .iter()
                .map(|v| (v.spec.name, v.namespace.clone(), v.status))
                .collect();
            (views, not_exported)
        };
        // Live: the namespace was read whole, so the server is missing.
        let (views, not_exported) = listed(&inv);
        assert_eq!(
            views,
            [("velero", "velero".to_string(), ComponentStatus::NotFound)]
        );
        assert!(not_exported.is_empty());
        // A snapshot of the backups alone: not exported, neither found nor missing.
        inv.workload_coverage = Coverage::Exported;
        let (views, not_exported) = listed(&inv);
        assert!(views.is_empty(), "{views:?}");
        assert_eq!(
            not_exported,
            [NotExported {
                spec: catalogue::spec("velero").unwrap(),
                namespace: "velero".into()
            }]
        );
        // A snapshot that holds the node agent there: the server's absence is evidence.
        let mut inv = inventory(vec![
            velero_backup(),
            daemonset("velero", "node-agent", json!({"name": "node-agent"}), 1, 1),
        ]);
        inv.workload_coverage = Coverage::Exported;
        let (views, not_exported) = listed(&inv);
        assert!(not_exported.is_empty());
        assert!(views.contains(&("velero", "velero".to_string(), ComponentStatus::NotFound)));
    }

    #[test]
    fn a_name_alone_is_the_engine_only_where_the_engine_is() {
        // Kubescape's DaemonSet `node-agent` (its own labels, none of Velero's).
        let kubescape = daemonset(
            "kubescape",
            "node-agent",
            json!({"app.kubernetes.io/name": "node-agent"}),
            3,
            2,
        );
        let inv = inventory(vec![kubescape.clone()]);
        let c = BackupCenter::new(&inv, now());
        assert!(c.engines().is_empty(), "{:?}", c.engines());
        assert!(c.components().is_empty());
        // Beside a real Velero: only Velero's namespace has Velero's components.
        let inv = inventory(vec![
            kubescape,
            velero_backup(),
            daemonset("velero", "node-agent", json!({"name": "node-agent"}), 2, 2),
        ]);
        let c = BackupCenter::new(&inv, now());
        let places: Vec<_> = c
            .components()
            .iter()
            .map(|v| (v.spec.name, v.namespace.clone()))
            .collect();
        assert_eq!(
            places,
            [
                ("velero", "velero".to_string()),
                ("node-agent", "velero".to_string())
            ]
        );
    }

    #[test]
    fn every_workload_of_a_component_counts() {
        // Velero 1.16: `node-agent` and `node-agent-windows`; the Windows one does not run.
        let inv = inventory(vec![
            velero_backup(),
            daemonset(
                "velero",
                "node-agent",
                json!({"name": "node-agent", "role": "node-agent"}),
                3,
                3,
            ),
            daemonset(
                "velero",
                "node-agent-windows",
                json!({"name": "node-agent-windows", "role": "node-agent"}),
                2,
                0,
            ),
        ]);
        let c = BackupCenter::new(&inv, now());
        let views = c.components();
        let agent = views.iter().find(|v| v.spec.name == "node-agent").unwrap();
        assert_eq!((agent.pods_ready(), agent.pods_desired()), (3, 5));
        assert_eq!(agent.status, ComponentStatus::UnHealth);
        assert_eq!(
            agent.workload().map(|w| w.name.as_str()),
            Some("node-agent")
        );
    }

    #[test]
    fn pods_that_ended_are_not_desired() {
        let pod = |name: &str, created: &str, phase: &str, reason: &str| {
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "velero", "creationTimestamp": created,
                             "labels": {"deploy": "velero"}},
                "status": {"phase": phase, "reason": reason, "containerStatuses": [
                    {"name": "velero", "ready": phase == "Running", "restartCount": 0}]}})
        };
        let inv = inventory(vec![
            pod("velero-7d-new", "2026-11-20T00:00:00Z", "Running", ""),
            pod("velero-7d-old", "2026-11-10T00:00:00Z", "Failed", "Evicted"),
        ]);
        let c = BackupCenter::new(&inv, now());
        let views = c.components();
        let [v] = views.as_slice() else {
            panic!("one view expected: {views:?}")
        };
        assert_eq!((v.pods_ready(), v.pods_desired()), (1, 1));
        assert_eq!(v.status, ComponentStatus::Health);
        assert_eq!(v.created(), Some("2026-11-20T00:00:00Z".parse().unwrap()));
        assert_eq!(v.pods.len(), 2, "the Evicted pod stays as evidence");
    }
}
