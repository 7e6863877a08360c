//! The backup center's Warning events (`backupscope events`): what
//! `kubectl -n csdr get events --field-selector type!=Normal` shows, each event resolved to the
//! task, restore, vault, schedule or component it belongs to, with that object's phase and,
//! for a failed task, the reason class the center decided.

use crate::center::{BackupCenter, Graded, RestoreView, Severity};
use crate::dialect::components::ComponentSpec;
use crate::model::{Timestamp, WarningEvent};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsReport {
    /// Oldest first (by last occurrence), as a watch would have printed them.
    pub events: Vec<EventEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventEntry {
    pub namespace: String,
    pub name: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub reason: String,
    pub message: String,
    pub count: u64,
    pub first_timestamp: Option<Timestamp>,
    pub last_timestamp: Option<Timestamp>,
    pub source: String,
    pub involved_object: ObjectRef,
    /// The backup-center object the event is about; `None` for an event about a task or vault
    /// that no longer exists.
    pub belongs_to: Option<Owner>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OwnerKind {
    Backup,
    Restore,
    BackupLocation,
    Schedule,
    Component,
}

impl OwnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Backup => "backup",
            OwnerKind::Restore => "restore",
            OwnerKind::BackupLocation => "backuplocation",
            OwnerKind::Schedule => "schedule",
            OwnerKind::Component => "component",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    pub kind: OwnerKind,
    pub namespace: String,
    pub name: String,
    /// Its phase (task, restore, vault, schedule) or status (component).
    pub phase: String,
    /// For a failed or partially failed task or restore: the center's reason class.
    pub reason_class: Option<String>,
    /// The vault it belongs to (a task's or schedule's vault, the vault itself, the vault of
    /// the backup a restore reads); empty for a component.
    pub vault: String,
    pub severity: Severity,
}

/// Kinds of the objects the backup center's controllers report on (ACK and Velero): an event
/// about one of these belongs to the center even when the object is gone.
const CENTER_KINDS: &[&str] = &[
    "ApplicationBackup",
    "Backup",
    "ApplicationRestore",
    "Restore",
    "BackupLocation",
    "BackupStorageLocation",
    "BackupSchedule",
    "Schedule",
];

impl EventsReport {
    pub fn build(center: &BackupCenter) -> EventsReport {
        let resolver = Resolver::new(center);
        let mut events: Vec<EventEntry> = center
            .events()
            .filter_map(|e| {
                let belongs_to = resolver.owner(e);
                (belongs_to.is_some() || CENTER_KINDS.contains(&e.involved_kind.as_str()))
                    .then(|| entry(e, belongs_to))
            })
            .collect();
        events.sort_by(|a, b| {
            (a.last_timestamp, &a.namespace, &a.name).cmp(&(
                b.last_timestamp,
                &b.namespace,
                &b.name,
            ))
        });
        EventsReport { events }
    }
}

fn entry(e: &WarningEvent, belongs_to: Option<Owner>) -> EventEntry {
    EventEntry {
        namespace: e.namespace.clone(),
        name: e.name.clone(),
        event_type: e.event_type.clone(),
        reason: e.reason.clone(),
        message: e.message.clone(),
        count: e.count,
        first_timestamp: e.first,
        last_timestamp: e.last,
        source: e.source.clone(),
        involved_object: ObjectRef {
            kind: e.involved_kind.clone(),
            namespace: e.involved_namespace.clone(),
            name: e.involved_name.clone(),
        },
        belongs_to,
    }
}

/// Indexes of the center's objects by (namespace, name), built once per report.
struct Resolver<'c, 'a> {
    center: &'c BackupCenter<'a>,
    tasks: HashMap<(&'a str, &'a str), &'a crate::model::BackupTask>,
    restores: HashMap<(&'a str, &'a str), RestoreView<'a>>,
    schedules: HashMap<(&'a str, &'a str), &'a crate::model::Schedule>,
    /// Pod or workload name -> (component name, status, severity).
    components: HashMap<(String, String), ComponentState>,
    /// Namespace -> required components a snapshot holds nothing of there.
    not_exported: HashMap<String, Vec<&'static ComponentSpec>>,
}

/// A component's name, status (its phase as events show it) and severity.
type ComponentState = (&'static str, &'static str, Severity);

impl<'c, 'a> Resolver<'c, 'a> {
    fn new(center: &'c BackupCenter<'a>) -> Self {
        let (views, not_exported) = center.components_and_not_exported();
        let mut components = HashMap::new();
        for c in views {
            let own = (c.spec.name, c.status.as_str(), c.status.severity());
            for w in &c.workloads {
                components.insert((w.namespace.clone(), w.name.clone()), own);
            }
            for p in &c.pods {
                components.insert((p.namespace.clone(), p.name.clone()), own);
            }
        }
        Resolver {
            center,
            tasks: center
                .tasks()
                .map(|t| ((t.namespace.as_str(), t.name.as_str()), t))
                .collect(),
            restores: center
                .restores()
                .map(|r| ((r.restore.namespace.as_str(), r.restore.name.as_str()), r))
                .collect(),
            schedules: center
                .schedules()
                .map(|s| ((s.namespace.as_str(), s.name.as_str()), s))
                .collect(),
            components,
            not_exported: not_exported.into_iter().fold(HashMap::new(), |mut map, c| {
                map.entry(c.namespace).or_insert_with(Vec::new).push(c.spec);
                map
            }),
        }
    }

    /// The component an object is, by its name. Events outlive the pods they are about (the
    /// pod that was OOMKilled has been replaced by the time anyone looks), so a pod no longer
    /// there resolves through the workload its generated name carries:
    /// `<daemonset>-<suffix>` or `<deployment>-<pod-template-hash>-<suffix>`.
    /// A snapshot that holds no workload there (a pasted `kubectl get events`): the workload
    /// name the pod's carries is matched against the names installers give the components,
    /// and the component's state is unknown.
    fn component(&self, kind: &str, namespace: &str, name: &str) -> Option<ComponentState> {
        let get = |name: &str| {
            self.components
                .get(&(namespace.to_string(), name.to_string()))
                .copied()
        };
        if let Some(found) = get(name) {
            return Some(found);
        }
        if kind != "Pod" {
            return None;
        }
        let daemonset = name.rsplit_once('-')?.0;
        let deployment = daemonset.rsplit_once('-').map(|(d, _)| d);
        let workloads = || std::iter::once(daemonset).chain(deployment);
        workloads().find_map(get).or_else(|| {
            self.not_exported
                .get(namespace)?
                .iter()
                .find(|spec| workloads().any(|w| spec.is_named(w)))
                .map(|spec| (spec.name, "Unknown", Severity::Unknown))
        })
    }

    fn owner(&self, e: &WarningEvent) -> Option<Owner> {
        // Events name their object's namespace; a cluster-scoped reference has none, then the
        // event's own namespace is the best guess.
        let ns = if e.involved_namespace.is_empty() {
            e.namespace.as_str()
        } else {
            e.involved_namespace.as_str()
        };
        let key = (ns, e.involved_name.as_str());
        let center = self.center;
        match e.involved_kind.as_str() {
            // On ACK a velero.io Backup in csdr is the task's twin: it resolves to the task.
            "ApplicationBackup" | "Backup" => self.tasks.get(&key).map(|t| {
                let view = center.view(t);
                Owner {
                    kind: OwnerKind::Backup,
                    namespace: t.namespace.to_string(),
                    name: t.name.to_string(),
                    phase: t.phase.as_str().to_string(),
                    reason_class: t
                        .phase
                        .is_failure()
                        .then(|| center.reason(&view).as_str().to_string()),
                    vault: t.vault.to_string(),
                    severity: t.phase.severity(),
                }
            }),
            "ApplicationRestore" | "Restore" => self.restores.get(&key).map(|r| Owner {
                kind: OwnerKind::Restore,
                namespace: r.restore.namespace.clone(),
                name: r.restore.name.clone(),
                phase: r.restore.phase.as_str().to_string(),
                reason_class: r
                    .restore
                    .phase
                    .is_failure()
                    .then(|| center.restore_reason(r).as_str().to_string()),
                // A restore reads the vault of the backup it restores.
                vault: self
                    .tasks
                    .get(&(r.restore.namespace.as_str(), r.restore.backup.as_str()))
                    .map(|t| t.vault.to_string())
                    .unwrap_or_default(),
                severity: r.restore.phase.severity(),
            }),
            "BackupLocation" | "BackupStorageLocation" => {
                center.vault_in(key.0, key.1).map(|v| Owner {
                    kind: OwnerKind::BackupLocation,
                    namespace: v.namespace.clone(),
                    name: v.name.clone(),
                    phase: v.phase.as_str().to_string(),
                    reason_class: None,
                    vault: v.name.clone(),
                    severity: v.phase.severity(),
                })
            }
            "BackupSchedule" | "Schedule" => self.schedules.get(&key).map(|s| {
                let phase = center.schedule_phase(s);
                Owner {
                    kind: OwnerKind::Schedule,
                    namespace: s.namespace.clone(),
                    name: s.name.clone(),
                    phase: phase.as_str().to_string(),
                    reason_class: None,
                    vault: s.vault.clone(),
                    severity: phase.severity(),
                }
            }),
            _ => self
                .component(&e.involved_kind, key.0, key.1)
                .map(|(name, phase, severity)| Owner {
                    kind: OwnerKind::Component,
                    namespace: ns.to_string(),
                    name: name.to_string(),
                    phase: phase.to_string(),
                    reason_class: None,
                    vault: String::new(),
                    severity,
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::center::tests::{ack_backup, inventory, now};
    use serde_json::json;

    fn event(
        name: &str,
        kind: &str,
        object: &str,
        reason: &str,
        message: &str,
    ) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": "csdr"},
            "involvedObject": {"kind": kind, "name": object, "namespace": "csdr"},
            "type": "Warning", "reason": reason, "message": message, "count": 2,
            "lastTimestamp": "2026-11-25T08:00:00Z", "source": {"component": "csdr-controller"}})
    }

    #[test]
    fn events_resolve_to_their_task_with_phase_and_reason_class() {
        let inv = inventory(vec![
            ack_backup("b1", "Failed", "VaultError: backup vault is unavailable"),
            event(
                "b1.1",
                "ApplicationBackup",
                "b1",
                "BackupFailed",
                "VaultError: backup vault is unavailable",
            ),
            event(
                "gone.1",
                "ApplicationBackup",
                "gone",
                "BackupFailed",
                "HBRError: check HBR vault error",
            ),
            event(
                "p.1",
                "Pod",
                "some-app-pod",
                "BackOff",
                "Back-off restarting",
            ),
        ]);
        let center = BackupCenter::new(&inv, now());
        let report = EventsReport::build(&center);
        // The unrelated pod's event is not the backup center's.
        assert_eq!(report.events.len(), 2, "{report:#?}");
        let b1 = report.events.iter().find(|e| e.name == "b1.1").unwrap();
        assert_eq!(
            b1.belongs_to,
            Some(Owner {
                kind: OwnerKind::Backup,
                namespace: "csdr".into(),
                name: "b1".into(),
                phase: "Failed".into(),
                reason_class: Some("VaultError".into()),
                vault: "v1".into(),
                severity: Severity::Critical,
            })
        );
        assert_eq!(b1.count, 2);
        assert_eq!(b1.source, "csdr-controller");
        // A task deleted since: the event is kept, with nothing to belong to.
        let gone = report.events.iter().find(|e| e.name == "gone.1").unwrap();
        assert_eq!(gone.belongs_to, None);
        assert_eq!(gone.involved_object.kind, "ApplicationBackup");
    }

    #[test]
    fn an_event_about_a_replaced_pod_resolves_through_its_workload() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "csdr-velero", "namespace": "csdr"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"component": "csdr"}}},
            "status": {"readyReplicas": 1}});
        let inv = inventory(vec![
            ack_backup("b1", "Completed", ""),
            deployment,
            event(
                "oom.1",
                "Pod",
                "csdr-velero-7f9c5d8b6d-gone1",
                "BackOff",
                "Back-off restarting failed container velero",
            ),
            event("other.1", "Pod", "csdr-velerox-1", "BackOff", "x"),
        ]);
        let center = BackupCenter::new(&inv, now());
        let report = EventsReport::build(&center);
        let names: Vec<_> = report.events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["oom.1"], "only the component's pod: {report:#?}");
        let owner = report.events[0].belongs_to.as_ref().expect("owner");
        assert_eq!(
            (owner.kind, owner.name.as_str(), owner.phase.as_str()),
            (OwnerKind::Component, "csdr-velero", "Health")
        );
    }
}
