//! The objects that run a backup center's working components: Deployments and DaemonSets, their
//! Pods, and what the containers of both say. Each carries the component it was found to be and
//! on what evidence, so the view can join pods to workloads without re-reading labels.

use super::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum WorkloadKind {
    Deployment,
    DaemonSet,
}

/// The evidence that made an object a component, strongest first. A pod found by anything
/// weaker than its labels takes the component of the workload that owns it, when that
/// workload is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum MatchedBy {
    /// A label the installer sets (`deploy=velero`, `name=node-agent`, `component=csdr`, ...).
    Labels,
    /// The workload's name (for a pod: the name of the workload that owns it), as installers
    /// name them (`velero`, `<release>-velero`, `restic`, `csdr-velero`, ...).
    Name,
    /// A container name (`velero`, `node-agent`, ...).
    Container,
}

/// Which catalogued component an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ComponentMatch {
    /// The catalogue's name for it (`velero` also for a Helm `<release>-velero`).
    pub component: &'static str,
    pub by: MatchedBy,
}

/// CPU in cores and memory in bytes, as set on a container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Resources {
    pub cpu: Option<f64>,
    pub memory: Option<f64>,
}

/// A container of a workload's pod template. Names are unique within a workload (the dialect
/// names nameless ones), so per-container series never collide.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    pub requests: Resources,
    pub limits: Resources,
}

/// The Deployment or DaemonSet that runs a working component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    pub created: Option<Timestamp>,
    /// `metadata.labels` (Helm's `app.kubernetes.io/instance` names the release).
    pub labels: BTreeMap<String, String>,
    pub component: ComponentMatch,
    pub selector: BTreeMap<String, String>,
    pub desired: u64,
    pub ready: u64,
    pub available: u64,
    pub containers: Vec<ContainerSpec>,
    pub args: Vec<String>,
}

/// How a container last ended (OOMKilled, Error, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Termination {
    pub reason: String,
    pub exit_code: i64,
    pub finished: Option<Timestamp>,
}

/// One entry of a pod's `status.containerStatuses`. Names are unique within a pod.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerStatus {
    pub name: String,
    /// The image the container runs (version checks read its tag).
    pub image: String,
    pub ready: bool,
    pub restarts: u64,
    /// `state.waiting.reason`, e.g. CrashLoopBackOff; empty when running.
    pub waiting_reason: String,
    pub last_termination: Option<Termination>,
}

/// The workload a pod belongs to, from its ownerReferences: a Deployment's pods are owned by a
/// ReplicaSet `<deployment>-<pod-template-hash>`, so the Deployment is known even when the
/// ReplicaSet is not in the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodOwner {
    pub kind: WorkloadKind,
    pub name: String,
}

/// A pod of a working component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    pub created: Option<Timestamp>,
    pub labels: BTreeMap<String, String>,
    pub component: ComponentMatch,
    pub owner: Option<PodOwner>,
    pub node: String,
    pub phase: String,
    pub containers: Vec<ContainerStatus>,
}
