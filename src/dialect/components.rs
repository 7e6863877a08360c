//! The working components of each backup center, and the Kubernetes objects that show their
//! health: Deployments, DaemonSets, their Pods, and non-Normal Events.

use super::fields::{self, string};
use crate::model::{
    ContainerSpec, ContainerStatus, Engine, Pod, Record, Resources, Termination, WarningEvent,
    Workload, WorkloadKind, quantity,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// A component the backup center needs (or may have), and how to find its pods when its
/// workload object is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentSpec {
    pub name: &'static str,
    pub engine: Engine,
    pub kind: WorkloadKind,
    /// Where the installer puts it; `None`: wherever the engine is installed.
    pub namespace: Option<&'static str>,
    /// A missing required component is `NotFound`; a missing optional one is not reported.
    pub required: bool,
    /// Pod label sets documented for it (any one matches).
    pub pod_selectors: &'static [&'static [(&'static str, &'static str)]],
}

pub const COMPONENTS: &[ComponentSpec] = &[
    ComponentSpec {
        name: "migrate-controller",
        engine: Engine::Ack,
        kind: WorkloadKind::Deployment,
        namespace: Some("kube-system"),
        required: true,
        pod_selectors: &[&[("app", "migrate-controller")]],
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
    },
    ComponentSpec {
        name: "csdr-velero",
        engine: Engine::Ack,
        kind: WorkloadKind::Deployment,
        namespace: Some("csdr"),
        required: true,
        pod_selectors: &[&[("component", "csdr")]],
    },
    ComponentSpec {
        name: "hbr-client",
        engine: Engine::Ack,
        kind: WorkloadKind::DaemonSet,
        namespace: Some("csdr"),
        required: false,
        pod_selectors: &[&[("app", "hbr-client")]],
    },
    ComponentSpec {
        name: "velero",
        engine: Engine::Velero,
        kind: WorkloadKind::Deployment,
        namespace: None,
        required: true,
        pod_selectors: &[&[("deploy", "velero")]],
    },
    ComponentSpec {
        name: "node-agent",
        engine: Engine::Velero,
        kind: WorkloadKind::DaemonSet,
        namespace: None,
        required: false,
        pod_selectors: &[&[("name", "node-agent")]],
    },
];

impl ComponentSpec {
    pub fn lives_in(&self, namespace: &str) -> bool {
        self.namespace.is_none_or(|ns| ns == namespace)
    }

    pub fn matches_pod_labels(&self, labels: &BTreeMap<String, String>) -> bool {
        self.pod_selectors
            .iter()
            .any(|sel| selector_matches(sel, labels))
    }
}

fn selector_matches(selector: &[(&str, &str)], labels: &BTreeMap<String, String>) -> bool {
    selector
        .iter()
        .all(|(k, v)| labels.get(*k).is_some_and(|l| l == v))
}

/// The catalogue entry a workload object is, if any.
pub fn component_of_workload(
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
) -> Option<&'static ComponentSpec> {
    COMPONENTS
        .iter()
        .find(|c| c.kind == kind && c.name == name && c.lives_in(namespace))
}

pub fn map_workload(kind: WorkloadKind, obj: &Value) -> Option<Record> {
    let namespace = fields::namespace(obj);
    let name = fields::name(obj);
    component_of_workload(kind, &namespace, &name)?;
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
    let pod_spec = fields::at(obj, &["spec", "template", "spec"]);
    let containers = pod_spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .map(|cs| cs.iter().map(container_spec).collect())
        .unwrap_or_default();
    let args = pod_spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .flat_map(|c| fields::strings(c, &["args"]))
                .collect()
        })
        .unwrap_or_default();
    Some(Record::Workload(Workload {
        kind,
        namespace,
        name,
        created: fields::created(obj),
        selector: fields::string_map(obj, &["spec", "selector", "matchLabels"]),
        desired,
        ready,
        available,
        containers,
        args,
    }))
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

/// Pods are kept only when they belong to a catalogued component (by documented labels, or by
/// the `<component>-` name prefix every Deployment/DaemonSet pod carries).
pub fn map_pod(obj: &Value) -> Option<Record> {
    let namespace = fields::namespace(obj);
    let name = fields::name(obj);
    let labels = fields::string_map(obj, &["metadata", "labels"]);
    let relevant = COMPONENTS.iter().any(|c| {
        c.lives_in(&namespace)
            && (c.matches_pod_labels(&labels)
                || name
                    .strip_prefix(c.name)
                    .is_some_and(|rest| rest.starts_with('-')))
    });
    if !relevant {
        return None;
    }
    let containers = fields::at(obj, &["status", "containerStatuses"])
        .and_then(Value::as_array)
        .map(|cs| cs.iter().map(container_status).collect())
        .unwrap_or_default();
    Some(Record::Pod(Pod {
        namespace,
        name,
        created: fields::created(obj),
        labels,
        node: string(obj, &["spec", "nodeName"]),
        phase: string(obj, &["status", "phase"]),
        containers,
    }))
}

fn container_status(c: &Value) -> ContainerStatus {
    let last = fields::at(c, &["lastState", "terminated"]).map(|t| Termination {
        reason: string(t, &["reason"]),
        exit_code: fields::integer(t, &["exitCode"]).unwrap_or(0),
        finished: fields::time(t, &["finishedAt"]),
    });
    ContainerStatus {
        name: string(c, &["name"]),
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
