//! The working components of the backup center: which Deployments, DaemonSets and Pods are
//! the engine's components, and how healthy each one is.

use super::BackupCenter;
use crate::dialect::components::{self as catalogue, COMPONENTS, ComponentSpec};
use crate::inventory::{Inventory, NsName};
use crate::model::{
    ComponentMatch, ComponentStatus, Engine, MatchedBy, Pod, SharedStr, Workload, WorkloadKind,
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
    /// The Deployment or DaemonSet that runs it; `None` when the export holds only its pods
    /// (or nothing: then the status is `NotFound`).
    pub workload: Option<&'a Workload>,
    pub pods: Vec<&'a Pod>,
    pub status: ComponentStatus,
}

impl ComponentView<'_> {
    pub fn restarts(&self) -> u64 {
        self.pods
            .iter()
            .flat_map(|p| &p.containers)
            .map(|c| c.restarts)
            .sum()
    }

    /// When the component was created: its workload's creation, else (pods only) its oldest
    /// pod's.
    pub fn created(&self) -> Option<crate::model::Timestamp> {
        match self.workload {
            Some(w) => w.created,
            None => self.pods.iter().filter_map(|p| p.created).min(),
        }
    }
}

/// The objects found for one component in one namespace.
type Found<'a> = BTreeMap<(usize, &'a str), (Vec<&'a Workload>, Vec<&'a Pod>)>;

impl<'a> BackupCenter<'a> {
    /// The working components of the engines present: one view per component and namespace
    /// where its workload or pods are, plus a `NotFound` view of each required component in
    /// every namespace of its engine that lacks it.
    pub fn components(&self) -> Vec<ComponentView<'a>> {
        let engines = self.engines();
        let inv = self.inventory;
        let shown = |m: ComponentMatch, ns: &str| {
            COMPONENTS
                .iter()
                .position(|c| c.name == m.component)
                .filter(|i| {
                    let c = &COMPONENTS[*i];
                    engines.contains(&c.engine) && !self.is_mirror(c.engine, ns)
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
        let mut out = Vec::new();
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
                namespaces.extend(self.engine_namespaces(spec, &found));
            }
            for namespace in namespaces {
                let (workloads, pods) = found.remove(&(i, namespace)).unwrap_or_default();
                // Two workloads of one component in one namespace (a Helm release renamed
                // by chart 11 while the old one lingers): the one meant to run speaks for it.
                let workload = workloads
                    .into_iter()
                    .min_by_key(|w| (w.desired == 0, Reverse(w.ready), &w.name));
                out.push(ComponentView {
                    spec,
                    namespace: namespace.to_string(),
                    status: component_status(workload, &pods),
                    workload,
                    pods,
                });
            }
        }
        out
    }

    /// Where a required component should be: its fixed namespace, else every namespace that
    /// holds its engine's backup objects or other components.
    fn engine_namespaces(&self, spec: &ComponentSpec, found: &Found<'a>) -> BTreeSet<&'a str> {
        if let Some(ns) = spec.namespace {
            return BTreeSet::from([ns]);
        }
        let inv = self.inventory;
        let engine = spec.engine;
        let task_namespaces = inv
            .task_index
            .counts
            .keys()
            .filter(|(_, _, e)| *e == engine)
            .map(|(ns, _, _)| ns.as_str());
        let component_namespaces = found
            .keys()
            .filter(|(i, _)| COMPONENTS[*i].engine == engine)
            .map(|(_, ns)| *ns);
        let mut namespaces: BTreeSet<&'a str> = namespaces_of(inv.vaults.get(engine))
            .chain(namespaces_of(inv.schedules.get(engine)))
            .chain(namespaces_of(inv.restores.get(engine)))
            .chain(task_namespaces)
            .chain(component_namespaces)
            .filter(|ns| !self.is_mirror(engine, ns))
            .collect();
        if namespaces.is_empty() {
            namespaces.insert(engine.as_str());
        }
        namespaces
    }
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
/// namespace `counts` accepts. Engine detection uses it, so a cluster that holds only a Helm
/// `prod-velero` Deployment (or only ACK's pods) is found.
pub(super) fn engine_seen(inv: &Inventory, engine: Engine, counts: impl Fn(&str) -> bool) -> bool {
    let of_engine =
        |m: ComponentMatch| catalogue::spec(m.component).is_some_and(|c| c.engine == engine);
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

fn component_status(workload: Option<&Workload>, pods: &[&Pod]) -> ComponentStatus {
    let broken = pods
        .iter()
        .flat_map(|p| &p.containers)
        .any(|c| BROKEN_WAITING_REASONS.contains(&c.waiting_reason.as_str()));
    match workload {
        None if pods.is_empty() => ComponentStatus::NotFound,
        None => {
            let running = pods
                .iter()
                .all(|p| p.phase == "Running" && p.containers.iter().all(|c| c.ready));
            if running && !broken {
                ComponentStatus::Health
            } else {
                ComponentStatus::UnHealth
            }
        }
        Some(w) => {
            if w.desired > 0 && w.ready >= w.desired && !broken {
                ComponentStatus::Health
            } else {
                ComponentStatus::UnHealth
            }
        }
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
        assert!(v.workload.is_none());
        assert_eq!(v.created(), Some("2026-11-18T00:00:00Z".parse().unwrap()));
        assert_eq!(
            v.pods_ready(),
            1,
            "the not-ready pod is Running but not ready"
        );
        assert_eq!(v.status, ComponentStatus::UnHealth);
    }
}
