//! The working components of the backup center: which Deployments, DaemonSets and Pods are
//! the engine's components, and how healthy each one is.

use super::BackupCenter;
use crate::dialect::components::{COMPONENTS, ComponentSpec};
use crate::model::{ComponentStatus, Engine, Pod, Workload, WorkloadKind};

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

/// A working component with the objects that show its state.
#[derive(Debug, Clone)]
pub struct ComponentView<'a> {
    pub spec: &'static ComponentSpec,
    pub namespace: String,
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
}

impl<'a> BackupCenter<'a> {
    /// The working components of the engines present.
    pub fn components(&self) -> Vec<ComponentView<'a>> {
        let engines = self.engines();
        let inv = self.inventory;
        let mut out = Vec::new();
        for spec in COMPONENTS.iter().filter(|c| engines.contains(&c.engine)) {
            let workloads = match spec.kind {
                WorkloadKind::Deployment => &inv.deployments,
                WorkloadKind::DaemonSet => &inv.daemonsets,
            };
            let found: Vec<&Workload> = workloads
                .values()
                .filter(|w| w.name == spec.name && spec.lives_in(&w.namespace))
                .collect();
            if found.is_empty() {
                let namespace = spec
                    .namespace
                    .map(str::to_string)
                    .unwrap_or_else(|| self.install_namespace(spec.engine));
                let pods = self.pods_of(spec, &namespace, None);
                if pods.is_empty() && !spec.required {
                    continue;
                }
                let status = component_status(None, &pods);
                out.push(ComponentView {
                    spec,
                    namespace,
                    workload: None,
                    pods,
                    status,
                });
                continue;
            }
            for w in found {
                let pods = self.pods_of(spec, &w.namespace, Some(w));
                out.push(ComponentView {
                    spec,
                    namespace: w.namespace.clone(),
                    status: component_status(Some(w), &pods),
                    workload: Some(w),
                    pods,
                });
            }
        }
        out
    }

    /// Where an engine without a fixed namespace is installed: where its objects live.
    fn install_namespace(&self, engine: Engine) -> String {
        let inv = self.inventory;
        inv.vaults
            .get(engine)
            .keys()
            .chain(inv.backups.get(engine).keys())
            .map(|(ns, _)| ns.as_str())
            .find(|ns| !self.ack_namespaces.contains(ns))
            .unwrap_or(engine.as_str())
            .to_string()
    }

    fn pods_of(
        &self,
        spec: &ComponentSpec,
        namespace: &str,
        workload: Option<&Workload>,
    ) -> Vec<&'a Pod> {
        let range_start = (namespace.to_string(), String::new());
        self.inventory
            .pods
            .range(range_start..)
            .take_while(|((ns, _), _)| ns == namespace)
            .map(|(_, p)| p)
            .filter(|p| match workload {
                Some(w) if !w.selector.is_empty() => w
                    .selector
                    .iter()
                    .all(|(k, v)| p.labels.get(k).is_some_and(|l| l == v)),
                _ => spec.matches_pod_labels(&p.labels),
            })
            .collect()
    }
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
}
