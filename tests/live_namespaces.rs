//! Which namespaces the live source reads for Velero (issue 7 B.1): left at its default,
//! `--velero-namespace` also covers every namespace holding a BackupStorageLocation (OADP's
//! openshift-adp, a Helm release's namespace); named explicitly it is exactly that list; and
//! without the right to list locations cluster-wide it falls back to the list, not to an error.

#[path = "support/builders.rs"]
mod builders;
#[path = "support/cluster.rs"]
mod cluster;

use backupscope::center::BackupCenter;
use backupscope::source::health::SourceHealth;
use backupscope::source::kube::{self as live, KubeArgs};
use builders::*;
use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};
use testapiserver::TestApiServer;

fn location(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": cluster::VELERO_API,
        "kind": "BackupStorageLocation",
        "metadata": metadata("BackupStorageLocation", namespace, name, json!({})),
        "spec": {"default": true, "provider": "aws",
                 "objectStorage": {"bucket": "acme-backups", "prefix": namespace}},
        "status": {"phase": "Available", "lastValidationTime": "2026-11-25T08:59:12Z"},
    })
}

/// Velero as OADP runs it in openshift-adp, with its location; and a location in `velero`.
fn cluster_objects() -> Vec<Value> {
    let labels = json!({"app.kubernetes.io/name": "velero", "component": "velero",
                        "deploy": "velero", "openshift.io/oadp": "True"});
    let image = "registry.redhat.io/oadp/oadp-velero-rhel9:1.4.2";
    vec![
        location("openshift-adp", "velero-sample-1"),
        location("velero", "default"),
        mk_deployment(
            "openshift-adp",
            "velero",
            labels.clone(),
            labels.clone(),
            vec![mk_container("velero", image)],
        ),
        replicaset_pod(
            "openshift-adp",
            "velero",
            "588db7f655",
            "8m2xd",
            labels,
            vec![oom_killed("velero", image, 1)],
        ),
    ]
}

async fn client(server: &TestApiServer) -> Client {
    let kubeconfig =
        Kubeconfig::from_yaml(&server.kubeconfig_yaml("namespaces")).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    Client::try_from(config).expect("client")
}

fn args(velero_namespace: &[&str]) -> KubeArgs {
    KubeArgs {
        kubeconfig: None,
        context: None,
        ack_namespace: "csdr".into(),
        velero_namespace: velero_namespace.iter().map(|s| s.to_string()).collect(),
        page_size: 100,
        request_timeout: std::time::Duration::from_secs(10),
    }
}

/// The namespaces whose Velero objects the plan reads.
fn velero_namespaces(targets: &[live::Target]) -> Vec<String> {
    let mut out: Vec<String> = targets
        .iter()
        .filter(|t| t.resource.plural == "backupstoragelocations")
        .map(|t| t.namespace.clone())
        .collect();
    out.sort();
    out
}

async fn server() -> TestApiServer {
    let server = TestApiServer::start().await.expect("start server");
    cluster::register_velero(&server);
    server.apply_many(cluster_objects()).expect("load objects");
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_namespace_finds_oadp_and_reads_its_components() {
    let server = server().await;
    let client = client(&server).await;
    let args = args(&[live::DEFAULT_VELERO_NAMESPACE]);
    let targets = live::plan(&client, &args).await.expect("plan").targets;
    assert_eq!(velero_namespaces(&targets), ["openshift-adp", "velero"]);
    let pods: Vec<&str> = targets
        .iter()
        .filter(|t| t.resource.plural == "pods")
        .map(|t| t.namespace.as_str())
        .collect();
    assert_eq!(pods, ["velero", "openshift-adp"]);

    let health = SourceHealth::new();
    let objects = live::list_all(&client, &targets, args.page_size, &health).await;
    let inventory = live::inventory_from_list(&targets, &objects);
    let center = BackupCenter::new(&inventory, NOW.parse().expect("NOW"));
    let rows: Vec<String> = center
        .components()
        .iter()
        .map(|c| {
            format!(
                "{} {} {} restarts={}",
                c.spec.name,
                c.namespace,
                c.status.as_str(),
                c.restarts()
            )
        })
        .collect();
    // OADP's Velero is found; the plain `velero` namespace has a location but no server.
    assert_eq!(
        rows,
        [
            "velero openshift-adp Health restarts=1",
            "velero velero NotFound restarts=0",
        ]
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_list_is_read_as_given() {
    let server = server().await;
    let client = client(&server).await;
    let targets = live::plan(&client, &args(&["team-a", "velero"]))
        .await
        .expect("plan")
        .targets;
    assert_eq!(velero_namespaces(&targets), ["team-a", "velero"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_cluster_wide_list_the_default_namespace_is_read() {
    let server = server().await;
    server.forbid("backupstoragelocations", true);
    let client = client(&server).await;
    let targets = live::plan(&client, &args(&[live::DEFAULT_VELERO_NAMESPACE]))
        .await
        .expect("a forbidden discovery is not a failed plan")
        .targets;
    assert_eq!(velero_namespaces(&targets), ["velero"]);
    server.shutdown().await;
}
