//! How backupscope runs in a cluster: the `serve` Deployment (hardened, sized from the
//! benchmark figures), its Service and ServiceMonitor. The kustomize base is built from these;
//! the Helm chart's templates render the same objects (tests/deploy.rs compares them).

use serde_json::{Value, json};

/// The name of every object, the ServiceAccount and the container.
pub const NAME: &str = "backupscope";
/// The namespace the kustomize base installs into.
pub const NAMESPACE: &str = "backupscope";
/// `serve`'s default port (`--listen 0.0.0.0:9731`).
pub const PORT: u16 = 9731;
/// The image the manifests name; `kustomize edit set image` or the chart's `image.*` values
/// point it at a registry. The Dockerfile builds it.
pub const IMAGE: &str = "backupscope";
pub const IMAGE_TAG: &str = env!("CARGO_PKG_VERSION");
/// The distroless `nonroot` user the Dockerfile's image runs as.
pub const USER_ID: u32 = 65532;
/// Replicas with the lease: one acts (events, forwarding), both serve metrics.
pub const REPLICAS: u32 = 2;

/// Requests and limits, from docs/BENCHMARKS.md ("Live source sync", 100 000 backup tasks,
/// 1 000 vaults and schedules, on the 2-core machine): steady RSS 155 MiB after the initial
/// sync -> memory request 160Mi; the highest peak measured, 224 MiB (every task's phase
/// flipping), plus 40 % headroom for bigger centers -> limit 320Mi. CPU: 12 µs per watch
/// update, so even 10 000 updates/s is 0.12 core -> request 100m; the initial sync used 2.3 s
/// of CPU in 2.97 s -> limit 1 core, so a relist is not throttled into a slow start.
pub const MEMORY_REQUEST: &str = "160Mi";
pub const MEMORY_LIMIT: &str = "320Mi";
pub const CPU_REQUEST: &str = "100m";
pub const CPU_LIMIT: &str = "1";

/// The recommended labels, on every object and as the selector.
pub fn labels() -> Value {
    json!({"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME})
}

/// What `serve` is started with in the cluster, beyond its defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// `--engine`: auto, ack or velero.
    pub engine: &'static str,
    /// `--emit-events`: auto, on or off.
    pub emit_events: &'static str,
    /// `--lease $(POD_NAMESPACE)/backupscope`.
    pub lease: bool,
}

impl ServeOptions {
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "serve".to_string(),
            format!("--listen=0.0.0.0:{PORT}"),
            format!("--engine={}", self.engine),
            format!("--emit-events={}", self.emit_events),
        ];
        if self.lease {
            // Kubernetes expands $(VAR) in args from the container's env.
            args.push(format!("--lease=$(POD_NAMESPACE)/{NAME}"));
        }
        args
    }
}

/// The pod's security context: non-root, the runtime's default seccomp profile.
pub fn pod_security_context() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": USER_ID,
        "runAsGroup": USER_ID,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// The container's: nothing to escalate to, nothing to write, no capabilities.
pub fn container_security_context() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "capabilities": {"drop": ["ALL"]},
    })
}

pub fn resources() -> Value {
    json!({
        "requests": {"cpu": CPU_REQUEST, "memory": MEMORY_REQUEST},
        "limits": {"cpu": CPU_LIMIT, "memory": MEMORY_LIMIT},
    })
}

/// Liveness on `/healthz` (the process answers), readiness on `/readyz` (discovery and the
/// initial lists done): a pod is not scraped before it has the whole backup center.
pub fn probes() -> (Value, Value) {
    let probe = |path: &str, period: u32, failures: u32| {
        json!({
            "httpGet": {"path": path, "port": "http"},
            "periodSeconds": period,
            "timeoutSeconds": 5,
            "failureThreshold": failures,
        })
    };
    (probe("/healthz", 20, 3), probe("/readyz", 10, 3))
}

/// The pod's name and namespace from the downward API: the identity in the lease and on
/// events (`--identity` reads POD_NAME), and the lease's namespace.
pub fn env() -> Value {
    let field = |name: &str, path: &str| json!({"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}});
    json!([
        field("POD_NAME", "metadata.name"),
        field("POD_NAMESPACE", "metadata.namespace")
    ])
}

pub fn deployment(options: &ServeOptions) -> Value {
    let (liveness, readiness) = probes();
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "labels": labels()},
        "spec": {
            "replicas": if options.lease { REPLICAS } else { 1 },
            "selector": {"matchLabels": labels()},
            "template": {
                "metadata": {"labels": labels()},
                "spec": {
                    "serviceAccountName": NAME,
                    "securityContext": pod_security_context(),
                    // Two replicas on one node fail together.
                    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": labels()},
                        },
                    }]}},
                    "containers": [{
                        "name": NAME,
                        "image": format!("{IMAGE}:{IMAGE_TAG}"),
                        "args": options.args(),
                        "env": env(),
                        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
                        "livenessProbe": liveness,
                        "readinessProbe": readiness,
                        "resources": resources(),
                        "securityContext": container_security_context(),
                    }],
                },
            },
        },
    })
}

pub fn service() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "labels": labels()},
        "spec": {
            "selector": labels(),
            "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    })
}

/// How prometheus-operator scrapes the replicas. `honorLabels`: the backup center's own
/// `namespace` label must not become `exported_namespace`. Every replica serves the same
/// series (same API server, same inventory), and the alert rules join on object labels
/// (`on (namespace, backuplocation)`), which two copies differing only in `pod`/`instance`
/// would break; so both replicas' targets get the same target labels and write one series.
/// A replica that goes away leaves a gap of at most one scrape interval.
pub fn service_monitor() -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": NAME, "labels": labels()},
        "spec": {
            "selector": {"matchLabels": labels()},
            "endpoints": [{
                "port": "http",
                "path": "/metrics",
                "interval": "30s",
                "honorLabels": true,
                "relabelings": scrape_relabelings(),
            }],
        },
    })
}

/// The relabelings of [`service_monitor`]: one `instance` for every replica, no `pod`.
pub fn scrape_relabelings() -> Value {
    json!([
        {"action": "replace", "targetLabel": "instance", "replacement": NAME},
        {"action": "labeldrop", "regex": "pod|container|endpoint"},
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_brings_the_second_replica_and_its_argument() {
        let with = ServeOptions {
            engine: "auto",
            emit_events: "auto",
            lease: true,
        };
        assert_eq!(
            with.args(),
            [
                "serve",
                "--listen=0.0.0.0:9731",
                "--engine=auto",
                "--emit-events=auto",
                "--lease=$(POD_NAMESPACE)/backupscope"
            ]
        );
        assert_eq!(deployment(&with)["spec"]["replicas"], 2);
        let without = ServeOptions {
            lease: false,
            ..with
        };
        assert_eq!(deployment(&without)["spec"]["replicas"], 1);
        assert!(!without.args().iter().any(|a| a.starts_with("--lease")));
    }
}
