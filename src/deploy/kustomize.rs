//! deploy/: a kustomize base (everything, every feature of the defaults on: events for
//! Velero's tasks, two replicas with the lease) and an overlay per backup system.
//!
//! - `overlays/ack`: `--engine=ack`; ACK's csdr-controller writes its own Warning events, so
//!   backupscope writes none and its ClusterRole has no `create` on events.
//! - `overlays/velero`: `--engine=velero`; Velero writes no events, backupscope does.

use super::rbac::{self, Feature, Scope};
use super::workload::{self, NAME, NAMESPACE, ServeOptions};
use super::{Generated, yaml_docs};
use serde_json::{Value, json};

const BASE: &str = "deploy/base";

/// The base's options: `serve`'s defaults, plus the lease for two replicas.
pub const BASE_OPTIONS: ServeOptions = ServeOptions {
    engine: "auto",
    emit_events: "auto",
    lease: true,
};

/// (overlay, its options).
pub const OVERLAYS: [(&str, ServeOptions); 2] = [
    (
        "ack",
        ServeOptions {
            engine: "ack",
            emit_events: "off",
            lease: true,
        },
    ),
    (
        "velero",
        ServeOptions {
            engine: "velero",
            emit_events: "auto",
            lease: true,
        },
    ),
];

/// The name of the ConfigMap of the dashboards.
pub const DASHBOARDS_CONFIGMAP: &str = "backupscope-dashboards";

/// Which features of [`rbac`] the options turn on.
pub fn features(options: &ServeOptions) -> Vec<Feature> {
    Feature::ALL
        .into_iter()
        .filter(|f| match f {
            Feature::Read => true,
            Feature::EmitEvents => options.emit_events != "off",
            Feature::Lease => options.lease,
        })
        .collect()
}

fn rules(options: &ServeOptions, scope: Scope) -> Vec<Value> {
    features(options)
        .into_iter()
        .filter(|f| f.scope() == scope)
        .flat_map(rbac::rules)
        .collect()
}

fn metadata(name: &str, namespaced: bool) -> Value {
    let mut m = json!({"name": name, "labels": workload::labels()});
    if namespaced {
        m["namespace"] = json!(NAMESPACE);
    }
    m
}

pub fn cluster_role(options: &ServeOptions) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata(NAME, false),
        "rules": rules(options, Scope::Cluster),
    })
}

fn subjects() -> Value {
    json!([{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}])
}

fn rbac_objects(options: &ServeOptions) -> Vec<Value> {
    let mut docs = vec![
        cluster_role(options),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": metadata(NAME, false),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
            "subjects": subjects(),
        }),
    ];
    let own = rules(options, Scope::OwnNamespace);
    if !own.is_empty() {
        docs.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata(NAME, true),
            "rules": own,
        }));
        docs.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata(NAME, true),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME},
            "subjects": subjects(),
        }));
    }
    docs
}

fn file(path: String, text: String) -> Generated {
    Generated { path, text }
}

fn yaml_file(path: &str, docs: &[Value]) -> anyhow::Result<Generated> {
    Ok(file(path.to_string(), yaml_docs(docs)?))
}

fn base(dashboards: &[(&str, String)]) -> anyhow::Result<Vec<Generated>> {
    let dashboard_files: Vec<String> = dashboards
        .iter()
        .map(|(name, _)| format!("dashboards/{name}.json"))
        .collect();
    let kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": NAMESPACE,
        "resources": [
            "namespace.yaml", "serviceaccount.yaml", "rbac.yaml", "deployment.yaml",
            "service.yaml", "servicemonitor.yaml", "prometheusrule.yaml",
        ],
        // Grafana's dashboard sidecar loads every ConfigMap with this label, in any namespace
        // it is told to watch.
        "configMapGenerator": [{
            "name": DASHBOARDS_CONFIGMAP,
            "files": dashboard_files,
            "options": {
                "disableNameSuffixHash": true,
                "labels": {"grafana_dashboard": "1", "app.kubernetes.io/name": NAME},
            },
        }],
    });
    let mut out = vec![
        yaml_file(&format!("{BASE}/kustomization.yaml"), &[kustomization])?,
        yaml_file(
            &format!("{BASE}/namespace.yaml"),
            &[
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(NAMESPACE, false)}),
            ],
        )?,
        yaml_file(
            &format!("{BASE}/serviceaccount.yaml"),
            &[
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(NAME, true)}),
            ],
        )?,
        yaml_file(&format!("{BASE}/rbac.yaml"), &rbac_objects(&BASE_OPTIONS))?,
        yaml_file(
            &format!("{BASE}/deployment.yaml"),
            &[workload::deployment(&BASE_OPTIONS)],
        )?,
        yaml_file(&format!("{BASE}/service.yaml"), &[workload::service()])?,
        yaml_file(
            &format!("{BASE}/servicemonitor.yaml"),
            &[workload::service_monitor()],
        )?,
        // The same PrometheusRule `backupscope rules --prometheusrule` prints (its own header).
        file(
            format!("{BASE}/prometheusrule.yaml"),
            crate::alerting::rules::prometheus_rule_yaml(
                &crate::alerting::rules::Thresholds::default(),
            )?,
        ),
    ];
    out.extend(
        dashboards
            .iter()
            .map(|(name, json)| file(format!("{BASE}/dashboards/{name}.json"), json.clone())),
    );
    Ok(out)
}

fn overlay(name: &str, options: &ServeOptions) -> anyhow::Result<Vec<Generated>> {
    let dir = format!("deploy/overlays/{name}");
    let mut patches = vec![json!({"path": "serve.yaml"})];
    let mut out = vec![yaml_file(
        &format!("{dir}/serve.yaml"),
        &[json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": NAME},
            "spec": {
                "replicas": workload::deployment(options)["spec"]["replicas"],
                "template": {"spec": {"containers": [{"name": NAME, "args": options.args()}]}},
            },
        })],
    )?];
    // A strategic merge patch replaces a ClusterRole's `rules` whole.
    if rules(options, Scope::Cluster) != rules(&BASE_OPTIONS, Scope::Cluster) {
        patches.push(json!({"path": "clusterrole.yaml"}));
        out.push(yaml_file(
            &format!("{dir}/clusterrole.yaml"),
            &[cluster_role(options)],
        )?);
    }
    anyhow::ensure!(
        rules(options, Scope::OwnNamespace) == rules(&BASE_OPTIONS, Scope::OwnNamespace),
        "overlay {name}: the base's Role would need a patch too"
    );
    let kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["../../base"],
        "patches": patches,
    });
    out.insert(
        0,
        yaml_file(&format!("{dir}/kustomization.yaml"), &[kustomization])?,
    );
    Ok(out)
}

pub fn files(dashboards: &[(&str, String)]) -> anyhow::Result<Vec<Generated>> {
    let mut out = base(dashboards)?;
    for (name, options) in &OVERLAYS {
        out.extend(overlay(name, options)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ack_overlay_drops_event_writing_and_the_velero_one_keeps_it() {
        let ack = cluster_role(&OVERLAYS[0].1);
        let velero = cluster_role(&OVERLAYS[1].1);
        let creates = |role: &Value| {
            role["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["verbs"].as_array().unwrap().contains(&json!("create")))
        };
        assert!(!creates(&ack));
        assert!(creates(&velero));
        assert_eq!(velero, cluster_role(&BASE_OPTIONS));
        let files = files(&[]).unwrap();
        let paths: Vec<&str> = files.iter().map(|g| g.path.as_str()).collect();
        assert!(paths.contains(&"deploy/overlays/ack/clusterrole.yaml"));
        assert!(!paths.contains(&"deploy/overlays/velero/clusterrole.yaml"));
    }
}
