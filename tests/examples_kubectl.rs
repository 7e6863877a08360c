//! The bundled examples are what `kubectl get <resource> -n <ns> -o yaml` prints: each file is
//! loaded into the in-repo test API server and read back by the real kubectl, with the command
//! examples/README.md names for it, and the two texts must be the same byte for byte (but for
//! each object's `resourceVersion`, which the server assigns anew on load).

mod support;

#[path = "support/cluster.rs"]
mod cluster;

use std::path::PathBuf;
use std::process::Command;
use support::tempdir::TempDir;
use testapiserver::TestApiServer;

fn kubectl() -> PathBuf {
    std::env::var_os("KUBECTL").map_or_else(|| "kubectl".into(), PathBuf::from)
}

/// (file, resource as the README's command names it, namespace, label selector).
const FILES: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "ack-cluster/csdr-backuplocations.yaml",
        "backuplocations.csdr.alibabacloud.com",
        "csdr",
        None,
    ),
    (
        "ack-cluster/csdr-backupstoragelocations.yaml",
        "backupstoragelocations.velero.io",
        "csdr",
        None,
    ),
    (
        "ack-cluster/csdr-applicationbackups.yaml",
        "applicationbackups",
        "csdr",
        None,
    ),
    (
        "ack-cluster/csdr-backups.yaml",
        "backups.velero.io",
        "csdr",
        None,
    ),
    (
        "ack-cluster/csdr-backupschedules.yaml",
        "backupschedules",
        "csdr",
        None,
    ),
    (
        "ack-cluster/csdr-applicationrestores.yaml",
        "applicationrestores",
        "csdr",
        None,
    ),
    (
        "ack-cluster/csdr-deployments.yaml",
        "deployments",
        "csdr",
        None,
    ),
    (
        "ack-cluster/csdr-daemonsets.yaml",
        "daemonsets",
        "csdr",
        None,
    ),
    ("ack-cluster/csdr-pods.yaml", "pods", "csdr", None),
    ("ack-cluster/csdr-events.yaml", "events", "csdr", None),
    (
        "ack-cluster/kube-system-deployments.yaml",
        "deployments",
        "kube-system",
        None,
    ),
    (
        "ack-cluster/kube-system-pods.yaml",
        "pods",
        "kube-system",
        Some("app=migrate-controller"),
    ),
    (
        "velero-cluster/velero-backupstoragelocations.yaml",
        "backupstoragelocations",
        "velero",
        None,
    ),
    (
        "velero-cluster/velero-backups.yaml",
        "backups",
        "velero",
        None,
    ),
    (
        "velero-cluster/velero-podvolumebackups.yaml",
        "podvolumebackups",
        "velero",
        None,
    ),
    (
        "velero-cluster/velero-schedules.yaml",
        "schedules",
        "velero",
        None,
    ),
    (
        "velero-cluster/velero-restores.yaml",
        "restores",
        "velero",
        None,
    ),
    (
        "velero-cluster/velero-deployments.yaml",
        "deployments",
        "velero",
        None,
    ),
    (
        "velero-cluster/velero-daemonsets.yaml",
        "daemonsets",
        "velero",
        None,
    ),
    ("velero-cluster/velero-pods.yaml", "pods", "velero", None),
    (
        "velero-cluster/velero-events.yaml",
        "events",
        "velero",
        None,
    ),
];

/// Each object's `resourceVersion: "N"` with the number taken out; the List's own empty one
/// stays as it is.
fn without_resource_versions(yaml: &str) -> String {
    yaml.lines()
        .map(
            |line| match line.trim_start().strip_prefix("resourceVersion: \"") {
                Some(rest) if rest != "\"" => {
                    let indent = line.len() - line.trim_start().len();
                    format!("{}resourceVersion: \"<n>\"", " ".repeat(indent))
                }
                _ => line.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_file_is_what_kubectl_prints() {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let covered: Vec<&str> = FILES.iter().map(|f| f.0).collect();
    for example in ["ack-cluster", "velero-cluster"] {
        for entry in std::fs::read_dir(examples.join(example)).expect("example dir") {
            let name = entry.expect("entry").file_name();
            let file = format!("{example}/{}", name.to_string_lossy());
            assert!(covered.contains(&file.as_str()), "{file} is not checked");
        }
    }
    for example in ["ack-cluster", "velero-cluster"] {
        let server = TestApiServer::start().await.expect("start server");
        cluster::load_example(&server, example);
        let dir = TempDir::new("examples-kubectl");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, server.kubeconfig_yaml("examples")).expect("kubeconfig");
        for (file, resource, namespace, selector) in FILES {
            if !file.starts_with(example) {
                continue;
            }
            let mut args = vec!["get", resource, "-n", namespace, "-o", "yaml"];
            if let Some(selector) = selector {
                args.extend(["-l", selector]);
            }
            let out = Command::new(kubectl())
                .args(&args)
                .env("KUBECONFIG", &kubeconfig)
                .env_remove("KUBERNETES_SERVICE_HOST")
                .output()
                .expect("run kubectl (Debian package kubernetes-client)");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "kubectl {args:?}: {stderr}");
            let printed = String::from_utf8(out.stdout).expect("utf-8");
            let committed =
                std::fs::read_to_string(examples.join(file)).expect("read example file");
            let (printed, committed) = (
                without_resource_versions(&printed),
                without_resource_versions(&committed),
            );
            if printed != committed {
                let line = printed
                    .lines()
                    .zip(committed.lines())
                    .position(|(a, b)| a != b)
                    .map_or_else(
                        || {
                            format!(
                                "lengths {} and {}",
                                printed.lines().count(),
                                committed.lines().count()
                            )
                        },
                        |i| {
                            format!(
                                "line {}: kubectl {:?}, file {:?}",
                                i + 1,
                                printed.lines().nth(i).unwrap_or(""),
                                committed.lines().nth(i).unwrap_or("")
                            )
                        },
                    );
                panic!(
                    "examples/{file} differs from `kubectl {}`: {line}",
                    args.join(" ")
                );
            }
        }
        server.shutdown().await;
    }
}
