//! The web UI in a real browser: Debian's chromium, driven by npm `playwright-core`
//! (tests/browser/ui.mjs), opens every page of `backupscope serve` on both examples and on a
//! snapshot whose names, messages and labels carry script, and reports what a person sees.
//! This test asserts on that report: the tables show the example's vaults, failed tasks and
//! components, the chart's bars carry the right counts and severities, nothing logs an error,
//! and no planted script runs.
//!
//! Screenshots go to a temporary directory; `UPDATE_SCREENSHOTS=1` writes them to
//! docs/screenshots/ (shown in README.md). Needs `scripts/install-test-deps.sh` (chromium,
//! node, the npm packages of tests/browser).

mod support;

use serde_json::{Value, json};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::builders::{
    mk_backup, mk_bsl, mk_event, mk_restore, mk_schedule, mk_scheduled_backup, with, write_snapshot,
};
use support::serve::{Serve, example};
use support::tempdir::TempDir;

const NOW: &str = "2026-11-25T09:00:00Z";
const BROWSER_TIMEOUT: Duration = Duration::from_secs(240);

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// node, chromium and playwright-core, or a panic that says how to get them.
fn node() -> PathBuf {
    let chromium = support::debian_binary("BACKUPSCOPE_CHROMIUM", "/usr/bin/chromium", "chromium");
    assert!(chromium.is_file());
    let node = support::debian_binary("BACKUPSCOPE_NODE", "/usr/bin/node", "nodejs");
    let playwright = browser_dir().join("node_modules/playwright-core/package.json");
    assert!(
        playwright.is_file(),
        "{} missing: run scripts/install-test-deps.sh (npm ci in tests/browser)",
        playwright.display()
    );
    node
}

struct Page {
    name: String,
    hash: String,
    steps: Vec<Value>,
    /// Whether the page's screenshot is one of the committed ones.
    screenshot: bool,
}

fn page(name: &str, hash: &str) -> Page {
    Page {
        name: name.to_string(),
        hash: hash.to_string(),
        steps: Vec::new(),
        screenshot: true,
    }
}

/// Where screenshots go: docs/screenshots when asked to update them, else `scratch`.
fn screenshot_dir(scratch: &Path) -> PathBuf {
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&dir).expect("create docs/screenshots");
        dir
    } else {
        scratch.to_path_buf()
    }
}

/// Runs ui.mjs over `pages` of `serve`; returns the report per page name.
fn browse(serve: &Serve, pages: &[Page], screenshots: Option<&Path>) -> Vec<Value> {
    // One browser at a time: three Chromiums starting at once on two busy cores miss their
    // launch timeout.
    static ONE_BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_BROWSER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let node = node();
    let dir = TempDir::new("web-ui");
    let config = json!({
        "baseUrl": serve.url("/"),
        "screenshotDir": screenshots.map(|p| p.display().to_string()),
        "pages": pages.iter().map(|p| json!({"name": p.name, "hash": p.hash, "steps": p.steps, "screenshot": p.screenshot})).collect::<Vec<_>>(),
    });
    let config_path = dir.write("config.json", config.to_string());
    let stdout = dir.path().join("stdout.json");
    let stderr = dir.path().join("stderr.log");
    let mut child = Command::new(node)
        .arg(browser_dir().join("ui.mjs"))
        .arg(&config_path)
        .current_dir(browser_dir())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).expect("create stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("create stderr file"))
        .spawn()
        .expect("start node");
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the browser run took more than {BROWSER_TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = std::fs::read_to_string(&stdout).unwrap_or_default();
    assert!(
        status.success(),
        "ui.mjs failed ({status}):\n{}\n{out}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let pages = report["pages"].as_array().cloned().unwrap_or_default();
    for p in &pages {
        assert_clean(p);
    }
    pages
}

/// Nothing went wrong on a page: no console error or warning, no exception, no dialog, no
/// failed or refused request, no error shown, no element a injection would create, the CSP set.
fn assert_clean(p: &Value) {
    let name = &p["name"];
    for problem in [
        "console",
        "pageErrors",
        "dialogs",
        "failedRequests",
        "badResponses",
    ] {
        assert_eq!(p["problems"][problem], json!([]), "{name}: {problem}");
    }
    assert_eq!(p["errors"], json!([]), "{name}: the page shows an error");
    assert_eq!(p["injected"], 0, "{name}: markup from data");
    assert_eq!(p["pwned"], Value::Null, "{name}: a planted script ran");
    let csp = p["csp"].as_str().unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{name}: CSP {csp:?}"
    );
    assert_eq!(p["asOf"], "snapshot as of 2026-11-25 09:00:00Z", "{name}");
}

fn find<'a>(pages: &'a [Value], name: &str) -> &'a Value {
    pages
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no page {name}"))
}

fn table<'a>(page: &'a Value, key: &str) -> &'a Value {
    page["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["key"] == key))
        .unwrap_or_else(|| panic!("{}: no table {key}", page["name"]))
}

/// Column `header` of a table, as shown.
fn column(table: &Value, header: &str) -> Vec<String> {
    let headers: Vec<&str> = table["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    let i = headers
        .iter()
        .position(|h| *h == header)
        .unwrap_or_else(|| panic!("no column {header} in {headers:?}"));
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[i].as_str().unwrap_or_default().to_string())
        .collect()
}

/// One bar segment: (outcome, count, class).
type Segment = (String, u64, String);

/// (vault, total, segments) for each chart row.
fn bars(page: &Value) -> Vec<(String, u64, Vec<Segment>)> {
    page["bars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let segments = row["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["outcome"].as_str().unwrap().to_string(),
                        s["count"].as_u64().unwrap(),
                        s["class"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            (
                row["vault"].as_str().unwrap().to_string(),
                row["total"].as_u64().unwrap(),
                segments,
            )
        })
        .collect()
}

fn seg(outcome: &str, count: u64, class: &str) -> Segment {
    (outcome.to_string(), count, class.to_string())
}

fn serve_example(name: &str) -> Serve {
    let snapshot = example(name);
    Serve::start(&[
        OsStr::new("--snapshot"),
        snapshot.as_os_str(),
        OsStr::new("--now"),
        OsStr::new(NOW),
    ])
}

#[test]
fn ack_example_in_a_browser() {
    let serve = serve_example("ack-cluster");
    let scratch = TempDir::new("screens");
    let shots = screenshot_dir(scratch.path());
    let mut locations = page("ack-locations", "#/locations");
    locations.steps = vec![
        json!({"fill": ["#filter-locations", "hangzhou"]}),
        json!({"click": "[data-table=locations] th:nth-child(7) button"}),
    ];
    // Auto-refresh every 2 s redraws the page and keeps the filter being typed, and its focus.
    let mut refresh = page("ack-refresh", "?refresh=2#/health");
    refresh.steps = vec![
        json!({"fill": ["#filter-schedules", "orders"]}),
        json!({"wait": 4500}),
    ];
    refresh.screenshot = false;
    let mut failed = page("ack-operations", "#/operations");
    failed.steps = vec![json!({"fill": ["#filter-failed", "VaultError"]})];
    // Copy the first fix command of the first finding, then read the clipboard back.
    let mut doctor = page("ack-doctor", "#/doctor");
    doctor.steps =
        vec![json!({"click": "#finding-1 [data-command] button", "wait": 300, "clipboard": true})];
    let pages = browse(
        &serve,
        &[
            locations,
            failed,
            page("ack-addons", "#/addons"),
            page("ack-health", "#/health"),
            page(
                "ack-backuplocation",
                "#/backuplocation/csdr/shared-oss-vault",
            ),
            page("ack-backup", "#/backup/csdr/before-k8s-upgrade-1124"),
            page("ack-schedule", "#/schedule/csdr/orders-frequent"),
            page("ack-component", "#/component/csdr/csdr-velero"),
            doctor,
            refresh,
        ],
        Some(&shots),
    );

    let locations = find(&pages, "ack-locations");
    assert_eq!(locations["h1"], "Backup Locations");
    let vaults = table(locations, "locations");
    assert_eq!(
        column(vaults, "Backuplocation"),
        [
            "audit-hz-vault",
            "dr-bj-vault",
            "prod-hz-vault",
            "shared-oss-vault"
        ]
    );
    assert_eq!(
        column(vaults, "Phase"),
        ["InProgress", "Available", "Available", "Unavailable"]
    );
    assert_eq!(
        vaults["badges"],
        json!([
            ["InProgress", "badge sev-warning"],
            ["Available", "badge sev-ok"],
            ["Available", "badge sev-ok"],
            ["Unavailable", "badge sev-critical"]
        ])
    );
    assert_eq!(
        column(vaults, "OSS Bucket"),
        [
            "cnfs-oss-audit-archive-hz",
            "cnfs-oss-dr-backup-bj",
            "cnfs-oss-prod-backup-hz",
            "cnfs-oss-shared-backup"
        ]
    );
    // Filtered to one region, then sorted by phase.
    let filtered = table(&locations["steps"][0], "locations");
    assert_eq!(filtered["count"], "3 of 4 rows");
    let sorted = table(&locations["steps"][1], "locations");
    assert_eq!(sorted["sortedBy"], json!([["Phase", "ascending"]]));
    assert_eq!(
        column(sorted, "Backuplocation"),
        ["prod-hz-vault", "audit-hz-vault", "shared-oss-vault"]
    );

    let operations = find(&pages, "ack-operations");
    assert_eq!(
        bars(operations),
        [
            (
                "prod-hz-vault".into(),
                21,
                vec![
                    seg("Completed", 17, "bar sev-ok"),
                    seg("PartiallyFailed", 2, "bar sev-warning"),
                    seg("Failed", 1, "bar sev-critical"),
                    seg("InProgress", 1, "bar sev-warning hatched"),
                ]
            ),
            (
                "shared-oss-vault".into(),
                11,
                vec![
                    seg("Completed", 7, "bar sev-ok"),
                    seg("Failed", 4, "bar sev-critical")
                ]
            ),
            (
                "dr-bj-vault".into(),
                8,
                vec![
                    seg("Completed", 6, "bar sev-ok"),
                    seg("Failed", 1, "bar sev-critical"),
                    seg("InProgress", 1, "bar sev-warning hatched"),
                ]
            ),
            ("audit-hz-vault".into(), 0, vec![]),
        ]
    );
    assert_eq!(
        operations["cards"],
        json!([
            ["backup tasks", "40"],
            ["Completed", "30"],
            ["PartiallyFailed", "2"],
            ["Failed", "6"],
            ["InProgress", "2"]
        ])
    );
    let failed = table(operations, "failed");
    assert_eq!(failed["count"], "1–8 of 8");
    assert_eq!(
        column(failed, "Backup"),
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
        column(failed, "Reason"),
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
    assert_eq!(
        column(failed, "DataType"),
        [
            "—", "—", "—", "—", "snapshot", "snapshot", "snapshot", "all"
        ]
    );
    assert_eq!(
        column(failed, "FromSchedule")[3..6],
        ["manual", "prod-daily", "manual"]
    );
    // The server filters the failed tasks.
    let vault_errors = table(&operations["steps"][0], "failed");
    assert_eq!(vault_errors["count"], "1–4 of 4");

    let addons = find(&pages, "ack-addons");
    let components = table(addons, "components");
    assert_eq!(
        column(components, "Component"),
        [
            "migrate-controller",
            "csdr-controller",
            "csdr-velero",
            "hbr-client"
        ]
    );
    assert_eq!(column(components, "Restarts"), ["0", "0", "2", "0"]);
    assert_eq!(
        column(components, "Last termination"),
        ["—", "—", "OOMKilled", "—"]
    );
    assert_eq!(
        column(components, "Memory Limit"),
        ["512Mi", "1Gi", "2Gi", "1Gi"]
    );
    assert_eq!(
        column(components, "CPU Request"),
        ["100m", "200m", "500m", "100m"]
    );
    assert_eq!(column(components, "Pods"), ["1/1", "1/1", "1/1", "3/3"]);

    let health = find(&pages, "ack-health");
    let schedules = table(health, "schedules");
    assert_eq!(
        column(schedules, "Schedule"),
        ["orders-frequent", "prod-daily", "weekly-full"]
    );
    assert_eq!(
        column(schedules, "Since last success"),
        ["21h59m", "4h40m", "3d6h"]
    );
    // The bar's tooltip, then the label.
    assert_eq!(
        column(schedules, "RPO / interval"),
        [
            "3.38 × interval 3.4×",
            "0.19 × interval 0.2×",
            "0.47 × interval 0.5×"
        ]
    );
    assert_eq!(
        column(schedules, "Last backup"),
        ["Failed", "Completed", "Completed"]
    );
    let unfinished = table(health, "unfinished");
    assert_eq!(
        column(unfinished, "Backup"),
        ["before-k8s-upgrade-1124", "payment-adhoc-1125"]
    );
    assert_eq!(column(unfinished, "Running for"), ["9h57m", "8m51s"]);
    let restores = table(health, "restores");
    assert_eq!(
        column(restores, "Restore"),
        ["restore-payment-verify", "restore-orders-drill"]
    );
    assert_eq!(column(restores, "Reason"), ["—", "RestoreError"]);

    let vault = find(&pages, "ack-backuplocation");
    assert_eq!(vault["h1"], "Backup location shared-oss-vault Unavailable");
    assert_eq!(table(vault, "tasks")["count"], "1–11 of 11");
    assert_eq!(column(table(vault, "events"), "Count"), ["232"]);
    assert_eq!(
        bars(vault),
        [(
            "shared-oss-vault".into(),
            11,
            vec![
                seg("Completed", 7, "bar sev-ok"),
                seg("Failed", 4, "bar sev-critical")
            ]
        )]
    );

    let backup = find(&pages, "ack-backup");
    assert_eq!(backup["h1"], "Backup before-k8s-upgrade-1124 InProgress");
    assert!(
        backup["mainText"]
            .as_str()
            .unwrap()
            .contains("Running for9h57m"),
        "{}",
        backup["mainText"]
    );
    // Related: the other manual tasks of prod-hz-vault.
    assert_eq!(
        column(table(backup, "related"), "Backup")[0],
        "before-k8s-upgrade-1124"
    );

    let schedule = find(&pages, "ack-schedule");
    assert_eq!(schedule["h1"], "Schedule orders-frequent Enabled");
    assert_eq!(table(schedule, "runs")["count"], "1–9 of 9");

    let refresh = find(&pages, "ack-refresh");
    let typed = &refresh["steps"][0];
    let later = &refresh["steps"][1];
    assert!(
        later["renders"].as_u64() >= typed["renders"].as_u64().map(|n| n + 1),
        "no redraw in 4.5 s: {} then {}",
        typed["renders"],
        later["renders"]
    );
    assert_eq!(table(later, "schedules")["count"], "1 of 3 rows");
    assert_eq!(later["filters"]["filter-schedules"], "orders");
    assert_eq!(later["focused"], "filter-schedules");

    let doctor = find(&pages, "ack-doctor");
    assert_eq!(doctor["h1"], "Doctor");
    assert_eq!(
        doctor["cards"],
        json!([
            ["findings", "8"],
            ["critical", "3"],
            ["warning", "4"],
            ["unknown", "1"]
        ])
    );
    let summary = table(doctor, "findings");
    assert_eq!(
        column(summary, "Rule"),
        [
            "task-stuck",
            "restore-failed",
            "vault-access-denied",
            "backup-failed",
            "backup-partially-failed",
            "backup-partially-failed",
            "backup-failed",
            "schedule-paused"
        ]
    );
    assert_eq!(
        column(summary, "Object")[..3],
        [
            "csdr/ApplicationBackup/before-k8s-upgrade-1124",
            "csdr/ApplicationRestore/restore-orders-drill",
            "csdr/BackupLocation/shared-oss-vault"
        ]
    );
    let severities: Vec<&str> = summary["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b[1].as_str().unwrap())
        .collect();
    assert_eq!(
        severities,
        [
            "badge sev-critical",
            "badge sev-critical",
            "badge sev-critical",
            "badge sev-warning",
            "badge sev-warning",
            "badge sev-warning",
            "badge sev-warning",
            "badge sev-unknown"
        ]
    );
    let findings = doctor["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 8);
    // The stuck task with the OOMKill that explains it, as one finding.
    let stuck = &findings[0];
    assert_eq!(stuck["rule"], "task-stuck");
    assert_eq!(stuck["class"], "panel finding sev-critical");
    assert_eq!(stuck["badge"], "critical");
    assert_eq!(
        stuck["heading"],
        "1. backup before-k8s-upgrade-1124 InProgress for 9h57m49s (bound 2h) after csdr-velero was OOMKilled at 2026-11-24T23:09:47Z"
    );
    assert_eq!(
        stuck["fields"][0],
        json!(["Object", "csdr/ApplicationBackup/before-k8s-upgrade-1124"])
    );
    assert_eq!(stuck["links"][0], "#/backup/csdr/before-k8s-upgrade-1124");
    let pod = "csdr/Pod/csdr-velero-7f9c5d8b6d-8kx2p";
    assert_eq!(
        stuck["evidence"],
        json!([
            [
                "2026-11-24 23:02:11Z",
                "csdr/ApplicationBackup/before-k8s-upgrade-1124",
                "phase InProgress"
            ],
            [
                "2026-11-24 23:06:27Z",
                "csdr/Backup/before-k8s-upgrade-1124",
                "velero twin phase Failed: found a backup with status \"InProgress\" during the server starting, mark it as \"Failed\""
            ],
            [
                "2026-11-24 23:09:47Z",
                pod,
                "container velero restarted 2 time(s); last terminated OOMKilled (exit code 137) at 2026-11-24T23:09:47Z; memory limit 2Gi"
            ],
            [
                "2026-11-24 23:09:56Z",
                pod,
                "Warning event BackOff ×2 since 2026-11-24T23:09:48Z: Back-off restarting failed container velero in pod csdr-velero-7f9c5d8b6d-8kx2p_csdr(233e3fa3-1c8d-4d1e-8386-91e3490057d8)"
            ],
        ])
    );
    let patch = "kubectl -n csdr patch deployment csdr-velero --patch '{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"velero\",\"resources\":{\"limits\":{\"memory\":\"4Gi\"}}}]}}}}'";
    assert_eq!(
        stuck["fix"][0],
        json!({
            "text": "Raise the memory limit of csdr-velero (container velero) from 2Gi to 4Gi.",
            "commands": [patch],
            "buttons": ["Copy"],
        })
    );
    assert_eq!(stuck["fix"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        stuck["fix"][2]["commands"],
        json!([
            "kubectl -n csdr describe applicationbackup before-k8s-upgrade-1124",
            "kubectl -n csdr exec deploy/csdr-velero -c velero -- ./velero describe backup before-k8s-upgrade-1124 --details"
        ])
    );
    // The copy button puts the exact command on the clipboard.
    let copied = &doctor["steps"][0];
    assert_eq!(copied["clipboard"], patch);
    assert_eq!(
        copied["findings"][0]["fix"][0]["buttons"],
        json!(["Copied"])
    );
    // The vault finding lists the tasks and the schedule its failure broke.
    let vault = &findings[2];
    assert_eq!(vault["rule"], "vault-access-denied");
    assert_eq!(
        vault["affected"],
        json!([
            "csdr/ApplicationBackup/orders-frequent-20261124173000",
            "csdr/ApplicationBackup/orders-frequent-20261125000000",
            "csdr/ApplicationBackup/orders-frequent-20261125063000",
            "csdr/ApplicationBackup/orders-hotfix-1124",
            "csdr/BackupSchedule/orders-frequent"
        ])
    );
    assert_eq!(findings[7]["class"], "panel finding sev-unknown");

    let component = find(&pages, "ack-component");
    assert_eq!(component["h1"], "Component csdr-velero Health");
    let pods = table(component, "pods");
    assert_eq!(column(pods, "Last termination"), ["OOMKilled"]);
    assert_eq!(column(pods, "Exit code"), ["137"]);
    assert_eq!(column(table(component, "events"), "Reason"), ["BackOff"]);
}

#[test]
fn velero_example_in_a_browser() {
    let serve = serve_example("velero-cluster");
    let scratch = TempDir::new("screens");
    let shots = screenshot_dir(scratch.path());
    let pages = browse(
        &serve,
        &[
            page("velero-locations", "#/locations"),
            page("velero-operations", "#/operations"),
            page("velero-addons", "#/addons"),
            page("velero-health", "#/health"),
            page("velero-missing-location", "#/backuplocation/velero/offsite"),
            page("velero-doctor", "#/doctor"),
        ],
        Some(&shots),
    );
    let locations = find(&pages, "velero-locations");
    assert_eq!(
        column(table(locations, "locations"), "Backuplocation"),
        ["default", "gcs-archive", "offsite-s3"]
    );
    assert_eq!(
        column(table(locations, "locations"), "Phase"),
        ["Available", "Available", "Unavailable"]
    );

    let operations = find(&pages, "velero-operations");
    let chart = bars(operations);
    assert_eq!(
        chart
            .iter()
            .map(|(v, total, _)| (v.as_str(), *total))
            .collect::<Vec<_>>(),
        [
            ("default", 23),
            ("offsite-s3", 5),
            ("gcs-archive", 2),
            ("offsite", 1)
        ]
    );
    assert_eq!(
        chart[1].2,
        [
            seg("Completed", 3, "bar sev-ok"),
            seg("Failed", 2, "bar sev-critical")
        ]
    );
    // The vault that does not exist is named as missing.
    assert!(
        column(table(operations, "counts"), "Backuplocation").contains(&"offsitemissing".into())
    );
    let failed = table(operations, "failed");
    assert_eq!(failed["count"], "1–6 of 6");
    let mut names = column(failed, "Backup");
    names.sort();
    assert_eq!(
        names,
        [
            "daily-full-20261121020023",
            "daily-full-20261125020045",
            "every-6h-apps-20261123122102",
            "keycloak-offsite-1122",
            "weekly-offsite-20261114030021",
            "weekly-offsite-20261121030014",
        ]
    );

    let addons = find(&pages, "velero-addons");
    let components = table(addons, "components");
    assert_eq!(column(components, "Component"), ["velero", "node-agent"]);
    assert_eq!(column(components, "Restarts"), ["1", "1"]);
    assert_eq!(
        column(components, "Last termination"),
        ["OOMKilled", "Unknown"]
    );

    let health = find(&pages, "velero-health");
    assert_eq!(
        column(table(health, "unfinished"), "Backup"),
        [
            "postgres-datamover-1125",
            "every-6h-apps-20261125062431",
            "gitea-adhoc-1125"
        ]
    );

    // The doctor page lists the same findings as `doctor` (tests/doctor_cli.rs has them).
    let doctor = find(&pages, "velero-doctor");
    let rules = column(table(doctor, "findings"), "Rule");
    let shown: Vec<&str> = doctor["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, shown);
    assert!(
        rules.contains(&"backup-vault-missing".to_string()),
        "{rules:?}"
    );

    // A vault only a task names: the page says so and still lists the task.
    let missing = find(&pages, "velero-missing-location");
    assert_eq!(
        column(table(missing, "tasks"), "Backup"),
        ["keycloak-offsite-1122"]
    );
    assert!(
        missing["mainText"]
            .as_str()
            .unwrap()
            .contains("No backup location \"offsite\" exists in namespace \"velero\""),
        "{}",
        missing["mainText"]
    );
}

/// `encodeURIComponent`, for building page addresses in the test.
fn uri_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn hostile_names_are_shown_as_text_and_never_run() {
    // Each payload sets window.__pwned if it ever runs, or opens a dialog.
    let vault = "<img src=x onerror=\"window.__pwned='vault'\">";
    let task = "<script>window.__pwned='task'</script>";
    let schedule = "\" onmouseover=\"window.__pwned='schedule'\" x=\"";
    let message = "\"><svg onload=alert('message')></svg><iframe src=javascript:alert(1)>";
    let label = "'><img src=x onerror=alert('label')>";
    let ns = "velero";
    // A hostile vault in the storage-location label and a hostile schedule label.
    let mut labelled = mk_backup(
        ns,
        "labelled",
        label,
        "PartiallyFailed",
        "2026-11-25T07:00:00Z",
    );
    labelled["metadata"]["labels"]["velero.io/schedule-name"] = json!(label);
    let dir = TempDir::new("hostile");
    write_snapshot(
        dir.path(),
        vec![
            (
                "bsl.json",
                vec![with(
                    mk_bsl(ns, vault, "bucket<b>", Some("Unavailable")),
                    "/status/message",
                    json!(message),
                )],
            ),
            (
                "schedules.json",
                vec![mk_schedule(
                    ns,
                    schedule,
                    "0 2 * * *",
                    vault,
                    Some("Enabled"),
                )],
            ),
            (
                "backups.json",
                vec![
                    with(
                        mk_backup(ns, task, vault, "Failed", "2026-11-25T08:00:00Z"),
                        "/status/failureReason",
                        json!(message),
                    ),
                    mk_scheduled_backup(ns, schedule, vault, "InProgress", "2026-11-25T08:30:00Z"),
                    labelled,
                ],
            ),
            (
                "restores.json",
                vec![with(
                    mk_restore(ns, "<b>restore</b>", task, "Failed", "2026-11-25T08:10:00Z"),
                    "/status/failureReason",
                    json!(message),
                )],
            ),
            (
                "events.json",
                vec![mk_event(
                    ns,
                    "Backup",
                    task,
                    "<i>Failed</i>",
                    message,
                    "2026-11-25T08:01:00Z",
                )],
            ),
        ],
    );
    let serve = Serve::start(&[
        OsStr::new("--snapshot"),
        dir.path().as_os_str(),
        OsStr::new("--now"),
        OsStr::new(NOW),
    ]);
    let pages = browse(
        &serve,
        &[
            page("locations", "#/locations"),
            page("operations", "#/operations"),
            page("health", "#/health"),
            page(
                "vault",
                &format!("#/backuplocation/{ns}/{}", uri_component(vault)),
            ),
            page("task", &format!("#/backup/{ns}/{}", uri_component(task))),
            page(
                "schedule",
                &format!("#/schedule/{ns}/{}", uri_component(schedule)),
            ),
            page("doctor", "#/doctor"),
        ],
        None,
    );
    let text = |name: &str| find(&pages, name)["mainText"].as_str().unwrap().to_string();
    assert_eq!(
        column(
            table(find(&pages, "locations"), "locations"),
            "Backuplocation"
        ),
        [vault]
    );
    assert!(text("locations").contains(message), "{}", text("locations"));
    assert!(text("locations").contains("bucket<b>"));
    let failed = table(find(&pages, "operations"), "failed");
    let mut backups = column(failed, "Backup");
    backups.sort();
    assert_eq!(backups, [task, "labelled"]);
    assert!(text("operations").contains(message));
    assert!(text("operations").contains(label));
    assert_eq!(
        column(table(find(&pages, "health"), "schedules"), "Schedule"),
        [schedule]
    );
    assert!(text("health").contains("<b>restore</b>"));
    let vault_page = find(&pages, "vault");
    assert_eq!(
        vault_page["h1"],
        format!("Backup location {vault} Unavailable")
    );
    let task_page = find(&pages, "task");
    assert_eq!(task_page["h1"], format!("Backup {task} Failed"));
    assert!(text("task").contains("<i>Failed</i>"));
    assert!(text("task").contains(message));
    assert_eq!(
        find(&pages, "schedule")["h1"],
        format!("Schedule {schedule} Enabled")
    );
    // The doctor's findings name the hostile objects as text.
    assert!(text("doctor").contains(task), "{}", text("doctor"));
    assert!(text("doctor").contains(message));
}
