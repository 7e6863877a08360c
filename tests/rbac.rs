//! The RBAC rules of the manifests and the chart are what the code needs: `serve` runs with
//! every feature that calls the API on (both backup systems, events on every engine's tasks,
//! the lease) against the test API server holding both examples, and every request it makes
//! (verb, API group, resource) is compared with `deploy::rbac::permissions()`: nothing
//! requested that the list lacks, nothing listed that is never requested.

#[path = "support/cluster.rs"]
mod cluster;
mod support;

use backupscope::deploy::rbac::{self, Feature};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::time::{Duration, Instant};
use support::serve::Serve;
use support::tempdir::TempDir;
use testapiserver::{Access, TestApiServer};

const WAIT: Duration = Duration::from_secs(60);
const LEASE_NAMESPACE: &str = "backupscope";

type Rule = (String, String, String);

fn listed() -> BTreeSet<Rule> {
    rbac::permissions()
        .into_iter()
        .flat_map(|p| {
            p.verbs
                .into_iter()
                .map(move |v| (v.to_string(), p.group.to_string(), p.resource.to_string()))
        })
        .collect()
}

fn requested(accesses: &BTreeSet<Access>) -> BTreeSet<Rule> {
    accesses
        .iter()
        .map(|a| (a.verb.clone(), a.group.clone(), a.resource.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_requests_exactly_what_the_rbac_rules_grant() {
    let server = TestApiServer::start().await.unwrap();
    assert!(cluster::load_example(&server, "ack-cluster") > 0);
    assert!(cluster::load_example(&server, "velero-cluster") > 0);
    let dir = TempDir::new("rbac");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml("rbac")).unwrap();
    let mut args: Vec<OsString> = vec!["--kubeconfig".into(), kubeconfig.into()];
    // The examples' failures are days old: an event for each, on both engines' tasks.
    args.extend(
        [
            "--emit-events=on",
            "--event-max-age=100000h",
            "--event-interval=200ms",
            "--lease",
            &format!("{LEASE_NAMESPACE}/backupscope"),
            "--lease-duration=1s",
        ]
        .map(OsString::from),
    );
    let serve = tokio::task::spawn_blocking(move || Serve::start(&args))
        .await
        .unwrap();

    let want = listed();
    let deadline = Instant::now() + WAIT;
    loop {
        let seen = requested(&server.accesses());
        if seen.is_superset(&want) {
            break;
        }
        let missing: Vec<_> = want.difference(&seen).collect();
        assert!(
            Instant::now() < deadline,
            "listed in deploy::rbac but never requested within {WAIT:?}: {missing:?}\nserve's stderr:\n{}",
            serve.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Another lease renewal and event round, so a request made only later shows up too.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let accesses = server.accesses();
    let seen = requested(&accesses);
    let extra: Vec<_> = seen.difference(&want).collect();
    assert!(
        extra.is_empty(),
        "requested but not in deploy::rbac::permissions(): {extra:?}"
    );

    // Scope: leases only in backupscope's own namespace (a Role); events written where the
    // failed tasks are.
    let lease = rbac::permissions()
        .into_iter()
        .find(|p| p.feature == Feature::Lease)
        .unwrap();
    for a in accesses.iter().filter(|a| a.resource == lease.resource) {
        assert_eq!(a.namespace.as_deref(), Some(LEASE_NAMESPACE), "{a:?}");
    }
    let event_namespaces: BTreeSet<_> = accesses
        .iter()
        .filter(|a| a.resource == "events" && a.verb == "create")
        .filter_map(|a| a.namespace.as_deref())
        .collect();
    assert_eq!(
        event_namespaces,
        BTreeSet::from(["csdr", "velero"]),
        "events on both engines' failed tasks"
    );
    server.shutdown().await;
}
