//! The JSON API of the real `backupscope serve` (docs/api.md) on the bundled examples: the
//! documents carry the numbers of examples/README.md, task lists page without gaps or overlap,
//! errors are JSON with a status a client can act on, and every response has the security
//! headers.

mod support;

use serde_json::Value;
use std::ffi::OsStr;
use support::{
    http,
    serve::{Serve, example},
};

const NOW: &str = "2026-11-25T09:00:00Z";

fn serve(name: &str) -> Serve {
    let snapshot = example(name);
    Serve::start(&[
        OsStr::new("--snapshot"),
        snapshot.as_os_str(),
        OsStr::new("--now"),
        OsStr::new(NOW),
    ])
}

async fn get_json(serve: &Serve, path: &str) -> (u16, Value) {
    let response = http::get(&serve.url(path), &[]).await;
    assert_eq!(
        response.header("content-type"),
        Some("application/json; charset=utf-8"),
        "{path}"
    );
    assert!(
        response
            .header("content-security-policy")
            .is_some_and(|csp| csp.contains("default-src 'none'") && !csp.contains("unsafe")),
        "{path}: {:?}",
        response.header("content-security-policy")
    );
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    let body = response.text();
    let value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (response.status.as_u16(), value)
}

fn names(items: &Value, field: &str) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|i| i[field].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_documents_carry_the_example_numbers() {
    let serve = serve("ack-cluster");

    let (status, info) = get_json(&serve, "/api/v1/info").await;
    assert_eq!(status, 200);
    assert_eq!(info["now"], NOW);
    assert_eq!(info["engines"], serde_json::json!(["ack"]));
    assert_eq!(info["snapshot"], true);

    let (_, locations) = get_json(&serve, "/api/v1/backuplocations").await;
    assert_eq!(
        names(&locations["items"], "name"),
        [
            "audit-hz-vault",
            "dr-bj-vault",
            "prod-hz-vault",
            "shared-oss-vault"
        ]
    );
    let severities: Vec<String> = names(&locations["items"], "severity");
    assert_eq!(severities, ["warning", "ok", "ok", "critical"]);

    let (_, overview) = get_json(&serve, "/api/v1/overview").await;
    let bars = |vault: &Value| -> Vec<(String, u64, String)> {
        vault["bars"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["outcome"].as_str().unwrap().to_string(),
                    b["count"].as_u64().unwrap(),
                    b["severity"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let prod = overview["vaults"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["backupLocation"] == "prod-hz-vault")
        .expect("prod-hz-vault in the overview");
    let expect = |c, p, f, i| {
        vec![
            ("Completed".to_string(), c, "ok".to_string()),
            ("PartiallyFailed".to_string(), p, "warning".to_string()),
            ("Failed".to_string(), f, "critical".to_string()),
            ("InProgress".to_string(), i, "warning".to_string()),
            ("Unknown".to_string(), 0, "unknown".to_string()),
        ]
    };
    assert_eq!(bars(prod), expect(17, 2, 1, 1));
    assert_eq!(bars(&overview["totals"]), expect(30, 2, 6, 2));
    assert_eq!(overview["totals"]["total"], 40);

    let (_, failed) = get_json(&serve, "/api/v1/backups?set=failed").await;
    assert_eq!(failed["total"], 8);
    assert_eq!(
        names(&failed["items"], "name"),
        [
            "orders-frequent-20261125063000",
            "orders-frequent-20261125000000",
            "orders-frequent-20261124173000",
            "orders-hotfix-1124",
            "prod-daily-20261121040100",
            "shop-release-1119",
            "prod-daily-20261117040100",
            "weekly-full-20261108020000",
        ]
    );
    assert_eq!(
        names(&failed["items"], "reason"),
        [
            "VaultError",
            "VaultError",
            "VaultError",
            "VaultError",
            "PartialFailure",
            "PartialFailure",
            "Timeout",
            "HBRError"
        ]
    );

    let (_, unfinished) = get_json(&serve, "/api/v1/backups?set=unfinished").await;
    assert_eq!(
        names(&unfinished["items"], "name"),
        ["before-k8s-upgrade-1124", "payment-adhoc-1125"]
    );
    // 9h57m49s, as examples/README.md says.
    assert_eq!(unfinished["items"][0]["runningSeconds"], 35869.0);

    let (_, health) = get_json(&serve, "/api/v1/health").await;
    assert_eq!(
        names(&health["schedules"], "name"),
        ["orders-frequent", "prod-daily", "weekly-full"]
    );
    // 21h59m17s since the last success, 6h30m interval.
    assert_eq!(health["schedules"][0]["secondsSinceLastSuccess"], 79157.0);
    assert_eq!(health["schedules"][0]["rpoIntervals"], 79157.0 / 23400.0);
    assert_eq!(health["schedules"][0]["lastBackupSeverity"], "critical");
    assert_eq!(
        names(&health["restoreStatus"]["restores"], "name"),
        ["restore-payment-verify", "restore-orders-drill"]
    );

    let (_, components) = get_json(&serve, "/api/v1/components").await;
    assert_eq!(
        names(&components["items"], "component"),
        [
            "migrate-controller",
            "csdr-controller",
            "csdr-velero",
            "hbr-client"
        ]
    );

    let (status, velero) = get_json(&serve, "/api/v1/components/csdr/csdr-velero").await;
    assert_eq!(status, 200);
    assert_eq!(velero["kind"], "Deployment");
    assert_eq!(velero["restarts"], 2);
    let container = &velero["podStates"][0]["containers"][0];
    assert_eq!(container["lastTerminationReason"], "OOMKilled");
    assert_eq!(container["lastTerminationExitCode"], 137);
    assert_eq!(velero["events"][0]["reason"], "BackOff");

    let (status, vault) = get_json(&serve, "/api/v1/backuplocations/csdr/shared-oss-vault").await;
    assert_eq!(status, 200);
    assert_eq!(vault["severity"], "critical");
    assert_eq!(vault["taskCounts"]["failed"], 4);
    assert_eq!(vault["events"][0]["count"], 232);

    let (status, task) = get_json(&serve, "/api/v1/backups/csdr/weekly-full-20261108020000").await;
    assert_eq!(status, 200);
    assert_eq!(task["reason"], "HBRError");
    assert_eq!(task["severity"], "critical");
    assert_eq!(task["backupLocationSeverity"], "ok");
    assert_eq!(task["twin"]["phase"], "Completed");

    let (status, schedule) = get_json(&serve, "/api/v1/schedules/csdr/weekly-full").await;
    assert_eq!(status, 200);
    assert_eq!(schedule["paused"], true);
    assert_eq!(schedule["intervalSeconds"], 604800.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_pages_cover_every_task_once() {
    let serve = serve("velero-cluster");
    let mut seen = Vec::new();
    for offset in (0..40).step_by(7) {
        let (status, page) = get_json(
            &serve,
            &format!("/api/v1/backups?limit=7&offset={offset}&sort=name&order=asc"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(page["total"], 31);
        seen.extend(names(&page["items"], "name"));
    }
    assert_eq!(seen.len(), 31);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "pages in name order, none twice");

    // The vault that does not exist still lists the task that names it.
    let (_, offsite) = get_json(&serve, "/api/v1/backups?backupLocation=offsite").await;
    assert_eq!(names(&offsite["items"], "name"), ["keycloak-offsite-1122"]);
    assert_eq!(offsite["items"][0]["backupLocationExists"], false);
    // Manual tasks: an empty schedule.
    let (_, manual) = get_json(&serve, "/api/v1/backups?schedule=&limit=500").await;
    assert_eq!(manual["total"], 7);
    let (_, failed) = get_json(&serve, "/api/v1/backups?set=failed").await;
    assert_eq!(failed["total"], 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_a_client_can_act_on() {
    let serve = serve("velero-cluster");
    let (status, body) = get_json(&serve, "/api/v1/backups?limit=100000").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "query parameter limit=\"100000\": a number from 1 to 500"
    );
    let (status, body) = get_json(&serve, "/api/v1/backuplocations/velero/offsite").await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"],
        "backuplocation \"offsite\" not found; known: default, gcs-archive, offsite-s3"
    );
    let (status, one) = get_json(
        &serve,
        "/api/v1/backuplocations?namespace=velero&name=offsite-s3",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(names(&one["items"], "name"), ["offsite-s3"]);
    let (_, none) = get_json(
        &serve,
        "/api/v1/backuplocations?namespace=velero&name=offsite",
    )
    .await;
    assert_eq!(none["items"], serde_json::json!([]));
    let (status, body) = get_json(&serve, "/api/v1/backuplocations?vault=x").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "query parameter vault=\"x\": not a parameter of the backup location list (namespace, name)"
    );
    let (status, body) = get_json(&serve, "/api/v1/schedules/velero/nightly").await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"],
        "schedule \"nightly\" not found in namespace \"velero\""
    );
    let (status, body) = get_json(&serve, "/api/v1/components/velero/etcd").await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"],
        "component \"etcd\" not found in namespace \"velero\""
    );
    let (status, body) = get_json(&serve, "/api/v1/secrets").await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"],
        "no API document at /api/v1/secrets; GET /api/v1 lists them"
    );
    let (status, index) = get_json(&serve, "/api/v1").await;
    assert_eq!(status, 200);
    assert_eq!(index["endpoints"].as_array().map(Vec::len), Some(11));
}

/// `backupscope doctor -o json` on the same snapshot, at the same instant.
fn doctor_cli(example_name: &str) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(["doctor", "-o", "json", "--now", NOW, "--snapshot"])
        .arg(example(example_name))
        .output()
        .expect("run backupscope doctor");
    // Exit status 1: the examples have findings.
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("doctor -o json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_serves_the_findings_of_the_cli() {
    for example_name in ["ack-cluster", "velero-cluster"] {
        let serve = serve(example_name);
        let (status, doc) = get_json(&serve, "/api/v1/doctor").await;
        assert_eq!(status, 200);
        assert_eq!(doc, doctor_cli(example_name), "{example_name}");
    }
    let serve = serve("ack-cluster");
    let (_, doc) = get_json(&serve, "/api/v1/doctor").await;
    assert_eq!(doc["now"], NOW);
    assert_eq!(doc["engines"], serde_json::json!(["ack"]));
    assert_eq!(doc["kubernetesVersion"], Value::Null);
    let findings = doc["findings"].as_array().unwrap();
    let rules: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f["severity"].as_str().unwrap(), f["rule"].as_str().unwrap()))
        .collect();
    // Most severe first.
    assert_eq!(
        rules,
        [
            ("critical", "task-stuck"),
            ("critical", "restore-failed"),
            ("critical", "vault-access-denied"),
            ("warning", "backup-failed"),
            ("warning", "backup-partially-failed"),
            ("warning", "backup-partially-failed"),
            ("warning", "backup-failed"),
            ("unknown", "schedule-paused"),
        ]
    );
    // The stuck task and the OOMKilled csdr-velero are one finding with both as evidence.
    let obj = |kind: &str, name: &str| serde_json::json!({"namespace": "csdr", "kind": kind, "name": name});
    let pod = "csdr-velero-7f9c5d8b6d-8kx2p";
    assert_eq!(
        findings[0],
        serde_json::json!({
            "rule": "task-stuck",
            "severity": "critical",
            "object": obj("ApplicationBackup", "before-k8s-upgrade-1124"),
            "summary": "backup before-k8s-upgrade-1124 InProgress for 9h57m49s (bound 2h) after csdr-velero was OOMKilled at 2026-11-24T23:09:47Z",
            "evidence": [
                {"time": "2026-11-24T23:02:11Z", "object": obj("ApplicationBackup", "before-k8s-upgrade-1124"), "fact": "phase InProgress"},
                {"time": "2026-11-24T23:06:27Z", "object": obj("Backup", "before-k8s-upgrade-1124"),
                 "fact": "velero twin phase Failed: found a backup with status \"InProgress\" during the server starting, mark it as \"Failed\""},
                {"time": "2026-11-24T23:09:47Z", "object": obj("Pod", pod),
                 "fact": "container velero restarted 2 time(s); last terminated OOMKilled (exit code 137) at 2026-11-24T23:09:47Z; memory limit 2Gi"},
                {"time": "2026-11-24T23:09:56Z", "object": obj("Pod", pod),
                 "fact": "Warning event BackOff ×2 since 2026-11-24T23:09:48Z: Back-off restarting failed container velero in pod csdr-velero-7f9c5d8b6d-8kx2p_csdr(233e3fa3-1c8d-4d1e-8386-91e3490057d8)"},
            ],
            "affected": [],
            "cause": "csdr-velero was OOMKilled at 2026-11-24T23:09:47Z after the task started; the restarted velero dropped the task (its velero twin was marked Failed at the server start) and csdr never updated it, so it stays InProgress (ACK FAQ #14).",
            "fix": [
                {"text": "Raise the memory limit of csdr-velero (container velero) from 2Gi to 4Gi.",
                 "commands": ["kubectl -n csdr patch deployment csdr-velero --patch '{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"velero\",\"resources\":{\"limits\":{\"memory\":\"4Gi\"}}}]}}}}'"]},
                {"text": "Or cut velero's memory use: add --disable-informer-cache=true to the args of the migrate-controller container (ACK FAQ #14).",
                 "commands": ["kubectl -n kube-system edit deployment migrate-controller"]},
                {"text": "The task will not resume: delete it (in the console's Backup Records, or with a DeleteRequest: csdr tasks cannot be removed with kubectl delete) and run it again.",
                 "commands": [
                     "kubectl -n csdr describe applicationbackup before-k8s-upgrade-1124",
                     "kubectl -n csdr exec deploy/csdr-velero -c velero -- ./velero describe backup before-k8s-upgrade-1124 --details",
                 ]},
            ],
        })
    );
    // Four tasks failed on the vault the cluster cannot write: one vault finding lists them.
    let vault = &findings[2];
    assert_eq!(vault["object"], obj("BackupLocation", "shared-oss-vault"));
    assert_eq!(
        vault["affected"],
        serde_json::json!([
            obj("ApplicationBackup", "orders-frequent-20261124173000"),
            obj("ApplicationBackup", "orders-frequent-20261125000000"),
            obj("ApplicationBackup", "orders-frequent-20261125063000"),
            obj("ApplicationBackup", "orders-hotfix-1124"),
            obj("BackupSchedule", "orders-frequent"),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_assets_are_embedded() {
    let serve = serve("ack-cluster");
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/style.css", "text/css; charset=utf-8"),
        ("/assets/favicon.svg", "image/svg+xml"),
    ] {
        let response = http::get(&serve.url(path), &[]).await;
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(
            response.header("content-type"),
            Some(content_type),
            "{path}"
        );
        assert_eq!(
            response.header("content-security-policy"),
            Some(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                 connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            ),
            "{path}"
        );
        // Nothing is loaded from elsewhere: no absolute URL but the SVG namespace name.
        let body = response.text().replace("http://www.w3.org/2000/svg", "");
        assert!(
            !body.contains("http://") && !body.contains("https://") && !body.contains("//cdn"),
            "{path} names an absolute URL"
        );
    }
    // The script never parses data as markup.
    let script = http::get(&serve.url("/assets/app.js"), &[]).await.text();
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!script.contains(sink), "app.js uses {sink}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_are_gzipped_when_the_client_accepts_it() {
    use std::io::Read as _;
    let serve = serve("ack-cluster");
    let plain = http::get(&serve.url("/api/v1/health"), &[]).await;
    assert_eq!(plain.header("content-encoding"), None);
    let zipped = http::get(
        &serve.url("/api/v1/health"),
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("vary"), Some("accept-encoding"));
    assert!(zipped.header("content-security-policy").is_some());
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&zipped.body[..])
        .read_to_string(&mut unzipped)
        .expect("a gzip body");
    assert_eq!(unzipped, plain.text());
    // The embedded assets too.
    let script = http::get(&serve.url("/assets/app.js"), &[]).await;
    let zipped = http::get(&serve.url("/assets/app.js"), &[("accept-encoding", "gzip")]).await;
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert!(
        zipped.body.len() * 2 < script.body.len(),
        "compressed {} of {}",
        zipped.body.len(),
        script.body.len()
    );
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&zipped.body[..])
        .read_to_string(&mut unzipped)
        .expect("a gzip body");
    assert_eq!(unzipped, script.text());
    // Errors too are JSON, compressed or not.
    let missing = http::get(
        &serve.url("/api/v1/components/csdr/nope"),
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(missing.status, 404);
}
