//! The Kubernetes permissions backupscope needs, built from the constants its API callers use
//! (what the live source reads, the verbs of the event writer and of the lease), so the
//! ClusterRole of the manifests and of the Helm chart cannot ask for more, or less, than the
//! code does. `tests/rbac.rs` records every request `serve` makes against the test API server
//! with every feature on and compares them with [`rules`].
//!
//! Discovery (`/api`, `/apis`) and `/version` are non-resource URLs every authenticated user
//! may read (the `system:discovery` ClusterRole), so they need no rule here.

use crate::alerting::{events, lease};
use crate::dialect::{ack, velero};
use crate::source::kube::{ACK_READS, READ_VERBS, VELERO_READS, builtin_reads};
use serde_json::{Value, json};

/// What a permission is for; a rule is granted only when its feature is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Feature {
    /// Always: list and watch the backup center's objects, components and events.
    Read,
    /// `serve --emit-events auto|on`: a Warning event on each failed task.
    EmitEvents,
    /// `serve --lease NS/NAME`: leader election between replicas.
    Lease,
}

impl Feature {
    pub const ALL: [Feature; 3] = [Feature::Read, Feature::EmitEvents, Feature::Lease];

    /// Where the rule is granted: cluster-wide (the ClusterRole), or only in backupscope's
    /// own namespace (a Role), which is where its Lease lives.
    pub fn scope(self) -> Scope {
        match self {
            Feature::Read | Feature::EmitEvents => Scope::Cluster,
            Feature::Lease => Scope::OwnNamespace,
        }
    }

    /// The sentence a generated manifest carries above the rule.
    pub fn why(self) -> &'static str {
        match self {
            Feature::Read => "list and watch what backupscope reads (never Secrets)",
            Feature::EmitEvents => {
                "serve --emit-events: one Warning event per failed backup task (checked before created)"
            }
            Feature::Lease => "serve --lease: leader election between replicas",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Cluster,
    OwnNamespace,
}

/// One (API group, resource, verbs) that a feature needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub group: &'static str,
    pub resource: &'static str,
    pub verbs: Vec<&'static str>,
    pub feature: Feature,
}

/// Every permission of every feature, in a stable order.
pub fn permissions() -> Vec<Permission> {
    let mut out = Vec::new();
    let read = |group, resource| Permission {
        group,
        resource,
        verbs: READ_VERBS.to_vec(),
        feature: Feature::Read,
    };
    out.extend(ACK_READS.iter().map(|r| read(ack::GROUP, r.plural)));
    out.extend(VELERO_READS.iter().map(|r| read(velero::GROUP, r.plural)));
    out.extend(builtin_reads().iter().map(|(g, r)| read(g, r)));
    let (event_group, event_resource) = of::<k8s_openapi::api::core::v1::Event>();
    out.push(Permission {
        group: event_group,
        resource: event_resource,
        verbs: events::VERBS.to_vec(),
        feature: Feature::EmitEvents,
    });
    let (lease_group, lease_resource) = of::<k8s_openapi::api::coordination::v1::Lease>();
    out.push(Permission {
        group: lease_group,
        resource: lease_resource,
        verbs: lease::VERBS.to_vec(),
        feature: Feature::Lease,
    });
    out
}

fn of<K: k8s_openapi::Resource>() -> (&'static str, &'static str) {
    (K::GROUP, K::URL_PATH_SEGMENT)
}

/// The RBAC `rules` of one feature: one rule per (group, verbs), resources sorted.
pub fn rules(feature: Feature) -> Vec<Value> {
    let mut rules: Vec<(&str, Vec<&str>, Vec<&str>)> = Vec::new();
    for p in permissions().into_iter().filter(|p| p.feature == feature) {
        match rules
            .iter_mut()
            .find(|(g, verbs, _)| *g == p.group && *verbs == p.verbs)
        {
            Some((_, _, resources)) => resources.push(p.resource),
            None => rules.push((p.group, p.verbs, vec![p.resource])),
        }
    }
    rules
        .into_iter()
        .map(|(group, verbs, mut resources)| {
            resources.sort_unstable();
            json!({"apiGroups": [group], "resources": resources, "verbs": verbs})
        })
        .collect()
}

/// The features whose rules go into a role of `scope`.
pub fn features_in(scope: Scope) -> impl Iterator<Item = Feature> {
    Feature::ALL.into_iter().filter(move |f| f.scope() == scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_secrets_and_no_write_on_anything_but_events_and_leases() {
        let writes = ["create", "update", "patch", "delete", "deletecollection"];
        for p in permissions() {
            assert_ne!(p.resource, "secrets", "{p:?}");
            assert!(!p.verbs.contains(&"*") && p.resource != "*", "{p:?}");
            let writes_here = p.verbs.iter().any(|v| writes.contains(v));
            match (p.group, p.resource) {
                ("", "events") | ("coordination.k8s.io", "leases") => {}
                _ => assert!(!writes_here, "write verb on {p:?}"),
            }
            if p.group == ack::GROUP || p.group == velero::GROUP {
                assert_eq!(p.verbs, ["list", "watch"], "{p:?}");
            }
        }
    }

    #[test]
    fn rules_group_resources_by_verbs_per_feature() {
        let read = rules(Feature::Read);
        assert_eq!(
            read[0],
            json!({"apiGroups": ["csdr.alibabacloud.com"],
                   "resources": ["applicationbackups", "applicationrestores", "backuplocations", "backupschedules"],
                   "verbs": ["list", "watch"]})
        );
        assert_eq!(
            read[2],
            json!({"apiGroups": ["apps"], "resources": ["daemonsets", "deployments"], "verbs": ["list", "watch"]})
        );
        assert_eq!(
            read[3],
            json!({"apiGroups": [""], "resources": ["events", "pods"], "verbs": ["list", "watch"]})
        );
        assert_eq!(read.len(), 4);
        assert_eq!(
            rules(Feature::EmitEvents),
            [json!({"apiGroups": [""], "resources": ["events"], "verbs": ["get", "create"]})]
        );
        assert_eq!(
            rules(Feature::Lease),
            [
                json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]})
            ]
        );
        assert_eq!(
            features_in(Scope::Cluster).collect::<Vec<_>>(),
            [Feature::Read, Feature::EmitEvents]
        );
    }
}
