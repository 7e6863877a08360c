//! Working components found the way people install them (issue 7 B.1): Velero's Helm chart
//! before and since 11.0, `velero install`, OADP, an old `restic` DaemonSet, exports that hold
//! pods without their Deployment, two Velero installs side by side, and an ACK cluster. Every
//! object is shaped as `kubectl get -o json` prints it (see `support::builders`).

mod support;

use backupscope::center::BackupCenter;
use backupscope::dialect::{self, Mapped};
use backupscope::inventory::Inventory;
use backupscope::metrics::collector::Collector;
use backupscope::metrics::exposition::{Format, TextEncoder};
use backupscope::model::Engine;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Command;
use support::builders::*;
use support::tempdir::TempDir;

fn inventory(objects: &[Value]) -> Inventory {
    let mut inv = Inventory::new();
    for o in objects {
        if let Ok(Mapped::Record(r)) = dialect::map(o) {
            inv.apply(*r);
        }
    }
    inv
}

fn now() -> backupscope::model::Timestamp {
    NOW.parse().expect("NOW is RFC 3339")
}

/// The Addon Status rows: `component namespace status workload pods restarts`.
fn rows(objects: &[Value]) -> Vec<String> {
    let inv = inventory(objects);
    let center = BackupCenter::new(&inv, now());
    center
        .components()
        .iter()
        .map(|c| {
            let pods: Vec<&str> = c.pods.iter().map(|p| p.name.as_str()).collect();
            format!(
                "{} {} {} workload={} pods=[{}] restarts={}",
                c.spec.name,
                c.namespace,
                c.status.as_str(),
                c.workload().map_or("-", |w| w.name.as_str()),
                pods.join(","),
                c.restarts()
            )
        })
        .collect()
}

fn engines(objects: &[Value]) -> Vec<Engine> {
    let inv = inventory(objects);
    BackupCenter::new(&inv, now()).engines()
}

/// A Velero Backup, as the Velero server leaves a completed one.
fn velero_backup(namespace: &str, name: &str) -> Value {
    json!({
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": metadata("Backup", namespace, name,
            json!({"velero.io/storage-location": "default"})),
        "spec": {"storageLocation": "default", "ttl": "720h0m0s"},
        "status": {"phase": "Completed", "startTimestamp": "2026-11-25T02:00:04Z",
                   "completionTimestamp": "2026-11-25T02:03:41Z", "version": 1},
    })
}

fn ack_backup(name: &str) -> Value {
    json!({
        "apiVersion": "csdr.alibabacloud.com/v1beta1",
        "kind": "ApplicationBackup",
        "metadata": metadata("ApplicationBackup", "csdr", name, json!({})),
        "spec": {"backupType": "AppAndPvBackup", "storageLocation": "prod-hz-vault"},
        "status": {"phase": "Completed"},
    })
}

/// Labels the Velero Helm chart puts on everything of release `release`.
fn helm_labels(release: &str, chart: &str) -> Value {
    json!({
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/name": "velero",
        "helm.sh/chart": chart,
    })
}

/// The server Deployment and its pod as the Helm chart renders them: Deployment
/// `<release>-velero` before chart 11.0, `velero` since.
fn helm_velero(namespace: &str, release: &str, deployment: &str, chart: &str) -> Vec<Value> {
    let common = helm_labels(release, chart);
    let pod_labels = merged(common.clone(), json!({"name": "velero"}));
    let mut d = mk_deployment(
        namespace,
        deployment,
        merged(common.clone(), json!({"component": "velero"})),
        pod_labels.clone(),
        vec![with_resources(
            mk_container("velero", VELERO_IMAGE),
            ("500m", "128Mi"),
            ("1000m", "512Mi"),
        )],
    );
    d["spec"]["selector"]["matchLabels"] =
        json!({"app.kubernetes.io/instance": release, "app.kubernetes.io/name": "velero"});
    let pod = replicaset_pod(
        namespace,
        deployment,
        "6b9f8d7c5d",
        "x2x7k",
        pod_labels,
        vec![oom_killed("velero", VELERO_IMAGE, 3)],
    );
    vec![d, pod]
}

/// Helm's node agent: DaemonSet `node-agent`, pods `name=node-agent`, `role=node-agent`.
fn helm_node_agent(namespace: &str, release: &str, chart: &str) -> Vec<Value> {
    let common = helm_labels(release, chart);
    let pod_labels = merged(
        common.clone(),
        json!({"name": "node-agent", "role": "node-agent"}),
    );
    node_agent(namespace, common, pod_labels, "5kq2n")
}

/// DaemonSet `node-agent` (selector `name=node-agent`) with one running pod.
fn node_agent(namespace: &str, labels: Value, pod_labels: Value, suffix: &str) -> Vec<Value> {
    let ds = mk_daemonset(
        namespace,
        "node-agent",
        labels,
        json!({"name": "node-agent"}),
        pod_labels.clone(),
        vec![mk_container("node-agent", VELERO_IMAGE)],
        1,
    );
    let pod = daemonset_pod(
        namespace,
        "node-agent",
        suffix,
        pod_labels,
        vec![running("node-agent", VELERO_IMAGE, 0)],
    );
    vec![ds, pod]
}

/// Helm's pre-upgrade hook: a Job whose pod runs the velero image. Never a component.
fn helm_upgrade_crds_pod(namespace: &str, job: &str) -> Value {
    let mut status = running("kubectl", "bitnami/kubectl:1.31", 0);
    status["ready"] = json!(false);
    status["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed",
        "finishedAt": "2026-11-25T08:00:09Z", "startedAt": "2026-11-25T08:00:05Z"}});
    let uid = uid("Job", namespace, job);
    let mut pod = mk_pod(
        namespace,
        &format!("{job}-8xk2l"),
        json!({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": job,
               "controller-uid": uid, "job-name": job}),
        Some(owned_by("Job", namespace, job)),
        vec![status],
    );
    pod["spec"]["initContainers"] = json!([mk_container("velero", VELERO_IMAGE)]);
    pod["status"]["phase"] = json!("Succeeded");
    pod
}

/// `velero install`: Deployment `velero` (selector `deploy=velero`), DaemonSet `node-agent`.
fn velero_install(namespace: &str) -> Vec<Value> {
    let server = mk_deployment(
        namespace,
        "velero",
        json!({"component": "velero"}),
        json!({"component": "velero", "deploy": "velero"}),
        vec![with_resources(
            mk_container("velero", VELERO_IMAGE),
            ("500m", "128Mi"),
            ("1000m", "512Mi"),
        )],
    );
    let mut server = server;
    server["spec"]["selector"]["matchLabels"] = json!({"deploy": "velero"});
    let pod = replicaset_pod(
        namespace,
        "velero",
        "7d9f8c6b5",
        "q8zl2",
        json!({"component": "velero", "deploy": "velero"}),
        vec![running("velero", VELERO_IMAGE, 0)],
    );
    let mut objects = vec![server, pod];
    objects.extend(node_agent(
        namespace,
        json!({"component": "velero"}),
        json!({"component": "velero", "name": "node-agent", "role": "node-agent"}),
        "m4wq9",
    ));
    objects
}

#[test]
fn helm_chart_10_names_the_deployment_after_the_release() {
    let mut objects = helm_velero("velero", "prod", "prod-velero", "velero-10.1.3");
    objects.extend(helm_node_agent("velero", "prod", "velero-10.1.3"));
    objects.push(helm_upgrade_crds_pod("velero", "prod-velero-upgrade-crds"));
    assert_eq!(
        rows(&objects),
        [
            "velero velero Health workload=prod-velero pods=[prod-velero-6b9f8d7c5d-x2x7k] restarts=3",
            "node-agent velero Health workload=node-agent pods=[node-agent-5kq2n] restarts=0",
        ]
    );
    assert_eq!(engines(&objects), [Engine::Velero]);
}

#[test]
fn a_helm_deployment_alone_is_a_velero_cluster() {
    let objects = vec![helm_velero("velero", "prod", "prod-velero", "velero-10.1.3").remove(0)];
    assert_eq!(engines(&objects), [Engine::Velero]);
    assert_eq!(
        rows(&objects),
        ["velero velero Health workload=prod-velero pods=[] restarts=0"]
    );
}

#[test]
fn helm_chart_11_names_it_velero() {
    let objects = helm_velero("backup", "velero", "velero", "velero-11.0.0");
    assert_eq!(
        rows(&objects),
        ["velero backup Health workload=velero pods=[velero-6b9f8d7c5d-x2x7k] restarts=3"]
    );
}

#[test]
fn velero_install_with_a_crash_looping_node_agent() {
    let mut objects = velero_install("velero");
    objects[3]["status"]["containerStatuses"] =
        json!([crash_looping("node-agent", VELERO_IMAGE, 12)]);
    objects[2]["status"]["numberReady"] = json!(0);
    assert_eq!(
        rows(&objects),
        [
            "velero velero Health workload=velero pods=[velero-7d9f8c6b5-q8zl2] restarts=0",
            "node-agent velero UnHealth workload=node-agent pods=[node-agent-m4wq9] restarts=12",
        ]
    );
}

#[test]
fn oadp_runs_velero_in_openshift_adp() {
    let oadp = json!({
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/instance": "velero-sample",
        "app.kubernetes.io/managed-by": "oadp-operator",
        "app.kubernetes.io/name": "velero",
        "component": "velero",
        "openshift.io/oadp": "True",
    });
    let pod_labels = merged(oadp.clone(), json!({"deploy": "velero"}));
    let server = mk_deployment(
        "openshift-adp",
        "velero",
        oadp,
        pod_labels.clone(),
        vec![mk_container(
            "velero",
            "registry.redhat.io/oadp/oadp-velero-rhel9:1.4.2",
        )],
    );
    let pod = replicaset_pod(
        "openshift-adp",
        "velero",
        "588db7f655",
        "8m2xd",
        pod_labels,
        vec![running(
            "velero",
            "registry.redhat.io/oadp/oadp-velero-rhel9:1.4.2",
            1,
        )],
    );
    // The operator itself lives there too; it is not a backup-center component.
    let operator = mk_deployment(
        "openshift-adp",
        "openshift-adp-controller-manager",
        json!({"control-plane": "controller-manager"}),
        json!({"control-plane": "controller-manager"}),
        vec![mk_container(
            "manager",
            "registry.redhat.io/oadp/oadp-rhel9-operator:1.4.2",
        )],
    );
    let objects = vec![
        server,
        pod,
        operator,
        velero_backup("openshift-adp", "nightly-1"),
    ];
    assert_eq!(
        rows(&objects),
        ["velero openshift-adp Health workload=velero pods=[velero-588db7f655-8m2xd] restarts=1"]
    );
}

/// A support bundle with the velero pod but not its Deployment: the pod, crash-looping after
/// being OOM-killed, still tells the component's state.
fn velero_pod_only() -> Vec<Value> {
    let mut status = crash_looping("velero", VELERO_IMAGE, 7);
    status["lastState"]["terminated"]["reason"] = json!("OOMKilled");
    status["lastState"]["terminated"]["exitCode"] = json!(137);
    vec![
        replicaset_pod(
            "velero",
            "velero",
            "7d9f8c6b5",
            "x2x7k",
            json!({"component": "velero", "deploy": "velero"}),
            vec![status],
        ),
        velero_backup("velero", "daily-20261125020004"),
    ]
}

#[test]
fn velero_pods_without_their_deployment() {
    assert_eq!(
        rows(&velero_pod_only()),
        ["velero velero UnHealth workload=- pods=[velero-7d9f8c6b5-x2x7k] restarts=7"]
    );
}

#[test]
fn a_pod_is_found_by_its_owner_name_then_by_its_container() {
    // Labels a user replaced (podLabels), so only the owning ReplicaSet's name tells.
    let by_owner = mk_pod(
        "velero",
        "prod-velero-6b9f8d7c5d-x2x7k",
        json!({"team": "platform", "pod-template-hash": "6b9f8d7c5d"}),
        Some(owned_by("ReplicaSet", "velero", "prod-velero-6b9f8d7c5d")),
        vec![running("server", VELERO_IMAGE, 0)],
    );
    // A bare pod: only its container name tells.
    let by_container = mk_pod(
        "backups",
        "velero-debug",
        json!({}),
        None,
        vec![running("velero", VELERO_IMAGE, 0)],
    );
    // A name alone says nothing where Velero is not (Kubescape runs a `node-agent` of its
    // own): with no Velero object in either namespace, neither pod is Velero's.
    assert_eq!(
        rows(&[by_owner.clone(), by_container.clone()]),
        Vec::<String>::new()
    );
    // Where Velero's backups are, the names tell.
    assert_eq!(
        rows(&[
            by_owner,
            by_container,
            velero_backup("velero", "daily-20261125020004"),
            velero_backup("backups", "daily-20261125020004"),
        ]),
        [
            "velero backups Health workload=- pods=[velero-debug] restarts=0",
            "velero velero Health workload=- pods=[prod-velero-6b9f8d7c5d-x2x7k] restarts=0",
        ]
    );
}

#[test]
fn old_restic_daemonset_is_the_node_agent() {
    let mut objects = velero_install("velero");
    objects.truncate(2);
    let labels = json!({"component": "velero", "name": "restic"});
    objects.push(mk_daemonset(
        "velero",
        "restic",
        json!({"component": "velero"}),
        json!({"name": "restic"}),
        labels.clone(),
        vec![mk_container("restic", "velero/velero:v1.9.5")],
        1,
    ));
    objects.push(daemonset_pod(
        "velero",
        "restic",
        "4xk8p",
        labels,
        vec![oom_killed("restic", "velero/velero:v1.9.5", 2)],
    ));
    assert_eq!(
        rows(&objects),
        [
            "velero velero Health workload=velero pods=[velero-7d9f8c6b5-q8zl2] restarts=0",
            "node-agent velero Health workload=restic pods=[restic-4xk8p] restarts=2",
        ]
    );
}

/// `velero install` in `velero` and a Helm chart 10 release `prod` in `backup-prod`, each with
/// a backup.
fn two_installs() -> Vec<Value> {
    let mut objects = velero_install("velero");
    objects.extend(helm_velero(
        "backup-prod",
        "prod",
        "prod-velero",
        "velero-10.1.3",
    ));
    objects.push(velero_backup("velero", "a"));
    objects.push(velero_backup("backup-prod", "b"));
    objects
}

#[test]
fn two_velero_namespaces_each_get_their_rows() {
    let mut objects = two_installs();
    // Backups synced into a namespace whose Velero is gone: its server is NotFound there.
    objects.push(velero_backup("team-b", "c"));
    assert_eq!(
        rows(&objects),
        [
            "velero backup-prod Health workload=prod-velero pods=[prod-velero-6b9f8d7c5d-x2x7k] restarts=3",
            "velero team-b NotFound workload=- pods=[] restarts=0",
            "velero velero Health workload=velero pods=[velero-7d9f8c6b5-q8zl2] restarts=0",
            "node-agent velero Health workload=node-agent pods=[node-agent-m4wq9] restarts=0",
        ]
    );
}

/// ACK's components as migrate-controller deploys them.
fn ack_cluster() -> Vec<Value> {
    let controller_labels = json!({"app": "csdr-controller", "control-plane": "csdr-controller"});
    let image =
        |c: &str| format!("registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/{c}:v1.8.4-aliyun");
    vec![
        mk_deployment(
            "kube-system",
            "migrate-controller",
            json!({"app": "migrate-controller"}),
            json!({"app": "migrate-controller"}),
            vec![mk_container(
                "migrate-controller",
                &image("migrate-controller"),
            )],
        ),
        replicaset_pod(
            "kube-system",
            "migrate-controller",
            "6f7d8c9b5",
            "2lq7x",
            json!({"app": "migrate-controller"}),
            vec![running(
                "migrate-controller",
                &image("migrate-controller"),
                0,
            )],
        ),
        mk_deployment(
            "csdr",
            "csdr-controller",
            controller_labels.clone(),
            controller_labels.clone(),
            vec![mk_container("csdr-controller", &image("csdr-controller"))],
        ),
        replicaset_pod(
            "csdr",
            "csdr-controller",
            "5c8d7b9f64",
            "9ldxg",
            controller_labels,
            vec![running("csdr-controller", &image("csdr-controller"), 0)],
        ),
        mk_deployment(
            "csdr",
            "csdr-velero",
            json!({"component": "csdr"}),
            json!({"component": "csdr"}),
            vec![mk_container("velero", &image("velero"))],
        ),
        csdr_velero_pod(),
        mk_daemonset(
            "csdr",
            "hbr-client",
            json!({"app": "hbr-client"}),
            json!({"app": "hbr-client"}),
            json!({"app": "hbr-client"}),
            vec![mk_container("hbr-client", &image("hbr-client"))],
            1,
        ),
        daemonset_pod(
            "csdr",
            "hbr-client",
            "7xk2p",
            json!({"app": "hbr-client"}),
            vec![running("hbr-client", &image("hbr-client"), 0)],
        ),
        ack_backup("prod-daily-20261125040100"),
        // The velero twin of the task, in csdr: a mirror, never a Velero install.
        velero_backup("csdr", "prod-daily-20261125040100"),
    ]
}

fn csdr_velero_pod() -> Value {
    replicaset_pod(
        "csdr",
        "csdr-velero",
        "6d5f8b7c9d",
        "kx7tq",
        json!({"component": "csdr"}),
        vec![oom_killed(
            "velero",
            "registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/velero:v1.8.4-aliyun",
            2,
        )],
    )
}

#[test]
fn ack_cluster_components() {
    let objects = ack_cluster();
    assert_eq!(engines(&objects), [Engine::Ack]);
    assert_eq!(
        rows(&objects),
        [
            "migrate-controller kube-system Health workload=migrate-controller pods=[migrate-controller-6f7d8c9b5-2lq7x] restarts=0",
            "csdr-controller csdr Health workload=csdr-controller pods=[csdr-controller-5c8d7b9f64-9ldxg] restarts=0",
            "csdr-velero csdr Health workload=csdr-velero pods=[csdr-velero-6d5f8b7c9d-kx7tq] restarts=2",
            "hbr-client csdr Health workload=hbr-client pods=[hbr-client-7xk2p] restarts=0",
        ]
    );
}

#[test]
fn ack_pods_without_deployments() {
    // Only the csdr-velero pod was exported: that alone says ACK runs here.
    assert_eq!(engines(&[csdr_velero_pod()]), [Engine::Ack]);
    assert_eq!(
        rows(&[csdr_velero_pod(), ack_backup("a")]),
        [
            "migrate-controller kube-system NotFound workload=- pods=[] restarts=0",
            "csdr-controller csdr NotFound workload=- pods=[] restarts=0",
            "csdr-velero csdr Health workload=- pods=[csdr-velero-6d5f8b7c9d-kx7tq] restarts=2",
        ]
    );
}

fn run_status(dir: &TempDir) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(["status", "--snapshot"])
        .arg(dir.path())
        .args(["--now", NOW])
        .env("NO_COLOR", "1")
        .output()
        .expect("run backupscope");
    assert!(
        out.status.success(),
        "status failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    stdout
        .split_once("ADDON STATUS\n")
        .map(|(_, addon)| addon.to_string())
        .unwrap_or_else(|| panic!("no ADDON STATUS section in:\n{stdout}"))
}

#[test]
fn status_shows_pods_without_deployments() {
    let dir = TempDir::new("components-velero-pods");
    write_list(dir.path(), "velero-pods.json", velero_pod_only());
    // Without a workload the age is the oldest pod's and there are no resources; PODS counts
    // only pods whose containers are all ready, which a crash-looping pod's are not.
    assert_eq!(
        run_status(&dir),
        "COMPONENT   NAMESPACE   AGE   STATUS     PODS   RESTARTS   MEMORY REQUEST   CPU REQUEST   MEMORY LIMIT   CPU LIMIT   LAST TERMINATION\n\
         velero      velero      34d   UnHealth   0/1    7          -                -             -              -           OOMKilled\n"
    );

    let dir = TempDir::new("components-ack-pods");
    write_list(
        dir.path(),
        "csdr.json",
        vec![csdr_velero_pod(), ack_backup("a")],
    );
    assert_eq!(
        run_status(&dir),
        "COMPONENT         NAMESPACE   AGE         STATUS     PODS   RESTARTS   MEMORY REQUEST   CPU REQUEST   MEMORY LIMIT   CPU LIMIT   LAST TERMINATION\n\
         csdr-controller   csdr        <unknown>   NotFound   0/0    0          -                -             -              -           <none>\n\
         csdr-velero       csdr        34d         Health     1/1    2          -                -             -              -           OOMKilled\n\
         migrate-controller in kube-system: not in the snapshot (it holds no Deployment, DaemonSet or Pod of the backup center there; add `kubectl -n kube-system get deployments,daemonsets,pods -o yaml`)\n",
        "the snapshot holds csdr's pods, so csdr-controller is missing; of kube-system it holds nothing"
    );
}

/// The series of one family in a 0.0.4 exposition, as `name{labels}` strings.
fn series<'t>(text: &'t str, family: &str) -> Vec<&'t str> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s))
        .collect()
}

#[test]
fn nameless_and_null_container_statuses_never_repeat_a_series() {
    // Issue 13 item 11: a hand-edited bundle with null, nameless and repeated entries.
    let mut pod = velero_pod_only().remove(0);
    pod["status"]["containerStatuses"] = json!([
        null,
        {"restartCount": 4, "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}},
        {"name": "", "restartCount": 1},
        running("velero", VELERO_IMAGE, 5),
        running("velero", VELERO_IMAGE, 9),
        {"name": "", "restartCount": 2, "lastState": {"terminated": null}},
    ]);
    let inv = inventory(&[pod]);
    let center = BackupCenter::new(&inv, now());
    let mut body = Vec::new();
    let mut encoder = TextEncoder::new(&mut body, Format::Prometheus004);
    Collector::new(Default::default()).collect_center(&center, &mut encoder);
    encoder.finish();
    let text = String::from_utf8(body).expect("utf-8 exposition");

    let all: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s))
        .collect();
    let unique: BTreeSet<&str> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a series repeats in:\n{text}");

    let restarts = |container: &str| {
        format!(
            "backupcenter_component_pod_restarts_total{{namespace=\"velero\",component=\"velero\",\
             pod=\"velero-7d9f8c6b5-x2x7k\",container=\"{container}\"}}"
        )
    };
    assert_eq!(
        series(&text, "backupcenter_component_pod_restarts_total"),
        [
            restarts("<unnamed-0>"),
            restarts("<unnamed-1>"),
            restarts("velero"),
            restarts("<unnamed-4>"),
        ]
    );
    // The first entry of a repeated name counts; the later one is dropped.
    assert!(
        text.contains(&format!("{} 5\n", restarts("velero"))),
        "{text}"
    );
    assert_eq!(
        series(&text, "backupcenter_component_pod_last_termination_info"),
        [
            "backupcenter_component_pod_last_termination_info{namespace=\"velero\",component=\"velero\",\
          pod=\"velero-7d9f8c6b5-x2x7k\",container=\"<unnamed-0>\",reason=\"OOMKilled\",exit_code=\"137\"}"
        ]
    );
    support::promtool::check_metrics(text.as_bytes()).expect("promtool accepts the scrape");
}

#[test]
fn one_row_when_a_chart_upgrade_leaves_the_old_deployment() {
    // Chart 11 renamed `prod-velero` to `velero`; the old Deployment lingers, scaled to zero.
    let mut old = helm_velero("velero", "prod", "prod-velero", "velero-10.1.3").remove(0);
    old["spec"]["replicas"] = json!(0);
    old["status"] = json!({"observedGeneration": 2});
    let mut objects = helm_velero("velero", "prod", "velero", "velero-11.0.0");
    objects.push(old);
    assert_eq!(
        rows(&objects),
        ["velero velero Health workload=velero pods=[velero-6b9f8d7c5d-x2x7k] restarts=3"]
    );
}

#[test]
fn status_shows_helm_and_velero_install_side_by_side() {
    let dir = TempDir::new("components-two-installs");
    let objects = two_installs();
    write_list(dir.path(), "export.json", objects);
    assert_eq!(
        run_status(&dir),
        "COMPONENT    NAMESPACE     AGE   STATUS   PODS   RESTARTS   MEMORY REQUEST   CPU REQUEST   MEMORY LIMIT   CPU LIMIT   LAST TERMINATION\n\
         velero       backup-prod   34d   Health   1/1    3          128Mi            500m          512Mi          1           OOMKilled\n\
         velero       velero        34d   Health   1/1    0          128Mi            500m          512Mi          1           <none>\n\
         node-agent   velero        34d   Health   1/1    0          -                -             -              -           <none>\n"
    );
}
