//! The vault probe and scan against a real S3-protocol server: moto's server (PyPI
//! `moto[server]`, installed by scripts/install-test-deps.sh) on a free loopback port, with
//! its authentication on, so wrong credentials get real 403s. Also a closed port, a listener
//! that never answers, and `serve` probing the bundled file:// example buckets.

use serde_json::{Value, json};
use std::ffi::OsStr;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::builders::{mk_backup, mk_bsl, with, write_snapshot};
use support::tempdir::TempDir;

/// The Python that runs moto: the interpreter of the `moto_server` script on PATH (pip
/// installs it with the Python that has moto and boto3), else `python3`.
fn moto_python() -> PathBuf {
    let script = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("moto_server not found on PATH: run scripts/install-test-deps.sh (pip install 'moto[server]')")
        });
    let text = std::fs::read_to_string(&script).unwrap_or_default();
    let shebang = text.lines().next().unwrap_or_default();
    match shebang.strip_prefix("#!") {
        Some(interp) if !interp.contains("env ") && !interp.trim().is_empty() => {
            PathBuf::from(interp.trim())
        }
        _ => PathBuf::from("python3"),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// moto's S3 server with one IAM user, the buckets of tests/vault/moto_setup.py, and
/// signature checking on. Killed on drop.
struct Moto {
    // Dropped after `child` is killed (fields drop after `Drop::drop`), so the next test's
    // moto starts only when this one is gone.
    _turn: std::sync::MutexGuard<'static, ()>,
    child: Child,
    endpoint: String,
    key_id: String,
    secret: String,
}

impl Moto {
    fn start() -> Moto {
        // One moto at a time: several Python servers starting at once on two busy cores miss
        // their start-up bound, and a loaded server stretches the probe's timings.
        static ONE_MOTO: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let turn = ONE_MOTO
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let python = moto_python();
        let port = free_port();
        let child = Command::new(&python)
            .arg("tests/vault/moto_server.py")
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start moto with {}: {e}", python.display()));
        let endpoint = format!("http://127.0.0.1:{port}");
        let mut moto = Moto {
            _turn: turn,
            child,
            endpoint,
            key_id: String::new(),
            secret: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not listen on {port} within 60s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let out = Command::new(&python)
            .arg("tests/vault/moto_setup.py")
            .arg(&moto.endpoint)
            .output()
            .expect("run moto_setup.py");
        assert!(
            out.status.success(),
            "moto setup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let keys = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut it = keys.split_whitespace();
        moto.key_id = it.next().expect("access key id").to_string();
        moto.secret = it.next().expect("secret").to_string();
        moto
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A listener that accepts connections and never answers, for `deadline` at most.
fn hanging_listener(deadline: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let end = Instant::now() + deadline;
        let mut held = Vec::new();
        while Instant::now() < end {
            match listener.accept() {
                Ok((s, _)) => held.push(s),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    port
}

fn run(args: &[String]) -> (String, String, bool) {
    run_with_env(args, &[])
}

fn run_with_env(args: &[String], env: &[(&str, &str)]) -> (String, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(args)
        .env_remove("BACKUPSCOPE_SNAPSHOT")
        .env_remove("BACKUPSCOPE_VAULT_ROOT")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("run backupscope");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

fn bsl(name: &str, bucket: &str, prefix: &str) -> Value {
    with(
        mk_bsl("velero", name, bucket, Some("Available")),
        "/spec/objectStorage/prefix",
        json!(prefix),
    )
}

const TIMEOUT_SECONDS: f64 = 2.0;

struct Setup {
    _dir: TempDir,
    moto: Moto,
    args: Vec<String>,
}

/// A snapshot with one vault per case, each mapped to its endpoint and credentials.
fn setup() -> Setup {
    let moto = Moto::start();
    let dir = TempDir::new("vault-s3");
    let good = dir.write(
        "good",
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            moto.key_id, moto.secret
        ),
    );
    let bad_secret = dir.write(
        "bad-secret",
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = not-{}\n",
            moto.key_id, moto.secret
        ),
    );
    let unknown = dir.write(
        "unknown",
        "[default]\naws_access_key_id = AKIAUNKNOWNUNKNOWN00\naws_secret_access_key = whatever\n",
    );
    let closed = free_port();
    let hanging = hanging_listener(Duration::from_secs(60));
    let at = "2026-11-25T08:00:00Z";
    write_snapshot(
        dir.path(),
        vec![
            (
                "bsl.json",
                vec![
                    bsl("healthy", "velero-prod", "cluster-a"),
                    bsl("wrong-secret", "velero-prod", "cluster-a"),
                    bsl("unknown-key", "velero-prod", "cluster-a"),
                    bsl("missing", "no-such-bucket", ""),
                    bsl("closed", "velero-prod", ""),
                    bsl("hanging", "velero-prod", ""),
                    bsl("stray", "stray", ""),
                    bsl("tls", "velero-prod", ""),
                ],
            ),
            (
                "backups.json",
                vec![
                    mk_backup("velero", "b-ok", "healthy", "Completed", at),
                    mk_backup("velero", "b-notar", "healthy", "Completed", at),
                    mk_backup("velero", "b-mismatch", "healthy", "Completed", at),
                    mk_backup("velero", "b-absent", "healthy", "Completed", at),
                    mk_backup("velero", "b-running", "healthy", "InProgress", at),
                ],
            ),
        ],
    );
    let e = &moto.endpoint;
    let mut args = vec!["--snapshot".to_string(), dir.path().display().to_string()];
    let mut map = |flag: &str, v: &str, value: String| {
        args.push(flag.to_string());
        args.push(format!("{v}={value}"));
    };
    for v in ["healthy", "wrong-secret", "unknown-key", "missing", "stray"] {
        map("--vault-endpoint", v, e.clone());
    }
    map(
        "--vault-endpoint",
        "closed",
        format!("http://127.0.0.1:{closed}"),
    );
    map(
        "--vault-endpoint",
        "hanging",
        format!("http://127.0.0.1:{hanging}"),
    );
    // moto speaks plain HTTP: a TLS handshake with it fails.
    map("--vault-endpoint", "tls", e.replace("http://", "https://"));
    let p = |f: &Path| f.display().to_string();
    for v in ["healthy", "missing", "closed", "hanging", "stray", "tls"] {
        map("--vault-credentials", v, p(&good));
    }
    map("--vault-credentials", "wrong-secret", p(&bad_secret));
    map("--vault-credentials", "unknown-key", p(&unknown));
    args.push("--probe-timeout".into());
    args.push(format!("{TIMEOUT_SECONDS}s"));
    Setup {
        _dir: dir,
        moto,
        args,
    }
}

impl Setup {
    /// `backupscope <cmd> <the setup's snapshot, endpoints, credentials and timeout>`.
    fn run(&self, cmd: &[&str]) -> (String, String, bool) {
        let mut args: Vec<String> = cmd.iter().map(|a| a.to_string()).collect();
        args.extend(self.args.iter().cloned());
        run(&args)
    }
}

fn by_name<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["backupLocation"] == name)
        .unwrap_or_else(|| panic!("no row for {name}"))
}

#[test]
fn probe_classifies_every_failure_against_a_real_s3_server() {
    let s = setup();
    let started = Instant::now();
    let (stdout, stderr, ok) = s.run(&["probe", "-o", "json", "--probe-write"]);
    let took = started.elapsed();
    assert!(ok, "probe failed: {stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("probe -o json");
    let rows = doc["probes"].as_array().expect("probes");
    assert_eq!(rows.len(), 8);
    let case = |name: &str| {
        let r = by_name(rows, name);
        (
            r["success"].as_bool().unwrap(),
            r["reason"].clone(),
            r["code"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(case("healthy"), (true, Value::Null, String::new()));
    let healthy = by_name(rows, "healthy");
    assert_eq!(healthy["folders"], json!(["backups", "kopia"]));
    assert_eq!(healthy["write"]["ok"], json!(true), "canary: {healthy}");
    assert_eq!(
        case("wrong-secret"),
        (
            false,
            json!("access_denied"),
            "SignatureDoesNotMatch".into()
        )
    );
    assert_eq!(
        case("unknown-key"),
        (false, json!("access_denied"), "InvalidAccessKeyId".into())
    );
    assert_eq!(
        case("missing"),
        (false, json!("no_such_bucket"), "NoSuchBucket".into())
    );
    assert_eq!(case("closed"), (false, json!("network"), String::new()));
    assert_eq!(case("tls"), (false, json!("tls"), String::new()));
    assert_eq!(case("hanging"), (false, json!("timeout"), String::new()));
    assert_eq!(
        case("stray"),
        (false, json!("invalid_layout"), String::new())
    );
    assert_eq!(
        by_name(rows, "stray")["invalidFolders"],
        json!(["tmp-export"])
    );
    // The hanging vault was given up on at the bound, not after a retry loop.
    let hung = by_name(rows, "hanging")["durationSeconds"]
        .as_f64()
        .unwrap();
    assert!(
        (TIMEOUT_SECONDS..TIMEOUT_SECONDS + 1.0).contains(&hung),
        "the hanging probe took {hung}s with a {TIMEOUT_SECONDS}s timeout"
    );
    assert!(
        took < Duration::from_secs(30),
        "the probe run took {took:?}"
    );
    // The canary was deleted again: the layout shows no new folder and Velero's stay valid.
    let (again, _, _) = s.run(&["probe", "healthy", "-o", "json"]);
    let again: Value = serde_json::from_str(&again).expect("json");
    assert_eq!(again["probes"][0]["folders"], json!(["backups", "kopia"]));

    // Credentials never appear in any output, table or JSON, success or failure.
    let (table, table_err, _) = s.run(&["probe"]);
    for text in [&stdout, &stderr, &table, &table_err] {
        assert!(!text.contains(&s.moto.secret), "the secret leaked:\n{text}");
        assert!(
            !text.contains(&s.moto.key_id),
            "the access key id leaked:\n{text}"
        );
        assert!(
            !text.contains("AKIAUNKNOWNUNKNOWN00"),
            "an access key id leaked:\n{text}"
        );
    }
    assert!(table.contains("SignatureDoesNotMatch"), "{table}");
}

#[test]
fn scan_finds_what_the_test_planted() {
    let s = setup();
    let (stdout, stderr, ok) = s.run(&["scan", "healthy", "-o", "json"]);
    assert!(ok, "scan failed: {stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("scan -o json");
    let scan = &doc["scans"][0];
    assert_eq!(scan["error"], Value::Null, "{scan}");
    assert_eq!(scan["clusterTasks"], json!(5));
    let names: Vec<&str> = scan["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["b-mismatch", "b-notar", "b-ok", "b-orphan"]);
    let findings: Vec<(String, String)> = scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["backup"].as_str().unwrap().into(),
                f["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("b-absent", "missing_artefacts"),
        ("b-mismatch", "phase_mismatch"),
        ("b-notar", "missing_tarball"),
        ("b-orphan", "orphan_backup"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(findings, want);
    assert_eq!(
        scan["counts"],
        json!({"missing_artefacts": 1, "missing_metadata": 0, "missing_tarball": 1, "orphan_backup": 1, "phase_mismatch": 1})
    );
    let mismatch = &scan["findings"][1];
    assert_eq!(
        (
            mismatch["clusterPhase"].as_str(),
            mismatch["bucketPhase"].as_str()
        ),
        (Some("Completed"), Some("PartiallyFailed"))
    );

    // The same vault with wrong credentials: the scan says why, and finds nothing.
    let (stdout, _, _) = s.run(&["scan", "wrong-secret", "-o", "json"]);
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(doc["scans"][0]["error"]["reason"], json!("access_denied"));
    assert_eq!(doc["scans"][0]["findings"], json!([]));
}

/// The findings of `doctor -o json` output, by rule and object name.
fn doctor_findings(stdout: &str) -> Vec<Value> {
    let doc: Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("doctor -o json: {e}: {stdout}"));
    doc["findings"].as_array().cloned().unwrap_or_default()
}

fn finding_of<'a>(findings: &'a [Value], rule: &str, name: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["rule"] == rule && f["object"]["name"] == name)
        .unwrap_or_else(|| panic!("no {rule} finding for {name}: {findings:#?}"))
}

#[test]
fn doctor_probe_makes_failing_buckets_findings_against_a_real_s3_server() {
    let s = setup();
    let started = jiff::Timestamp::now().as_second();
    let mut cmd = vec!["doctor", "--probe", "-o", "json"];
    let (stdout, stderr, ok) = s.run(&cmd);
    assert!(!ok, "findings exit 1: {stderr}");
    let findings = doctor_findings(&stdout);
    let mut failing: Vec<(String, String)> = findings
        .iter()
        .filter(|f| f["rule"] == "vault-probe-failing")
        .map(|f| {
            (
                f["object"]["name"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    failing.sort();
    let want: Vec<(String, String)> = [
        "closed",
        "hanging",
        "missing",
        "stray",
        "tls",
        "unknown-key",
        "wrong-secret",
    ]
    .iter()
    .map(|n| (n.to_string(), "critical".to_string()))
    .collect();
    // The healthy vault answers: nothing about it.
    assert_eq!(failing, want);
    assert!(
        !findings.iter().any(|f| f["object"]["name"] == "healthy"),
        "{findings:#?}"
    );

    let wrong = finding_of(&findings, "vault-probe-failing", "wrong-secret");
    assert_eq!(
        wrong["summary"],
        "vault wrong-secret is Available in the cluster, but its bucket fails backupscope's probe (access_denied, SignatureDoesNotMatch)"
    );
    let evidence = wrong["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 2, "{evidence:#?}");
    assert_eq!(
        evidence[0]["fact"],
        "phase Available (last validated 2026-11-25T08:59:00Z)"
    );
    let probe = evidence[1]["fact"].as_str().unwrap();
    let prefix = format!(
        "backupscope probe of s3://velero-prod/cluster-a ({}) failed after ",
        s.moto.endpoint
    );
    assert!(probe.starts_with(&prefix), "{probe}");
    assert!(
        probe.contains("s: access_denied (provider code SignatureDoesNotMatch): "),
        "{probe}"
    );
    // When: the probe's own time, in whole seconds, during this test.
    let at: jiff::Timestamp = evidence[1]["time"].as_str().unwrap().parse().unwrap();
    assert!(
        (started..=started + 120).contains(&at.as_second()),
        "{at} vs {started}"
    );
    assert_eq!(at.subsec_nanosecond(), 0);
    assert!(
        wrong["cause"]
            .as_str()
            .unwrap()
            .starts_with("The object store refuses the credentials backupscope was given for bucket velero-prod (SignatureDoesNotMatch)"),
        "{}",
        wrong["cause"]
    );
    assert_eq!(
        wrong["fix"][1]["commands"],
        json!([
            "velero backup-location get wrong-secret -o yaml",
            "backupscope probe wrong-secret -n velero"
        ])
    );
    let missing = finding_of(&findings, "vault-probe-failing", "missing");
    assert!(
        missing["evidence"][1]["fact"]
            .as_str()
            .unwrap()
            .contains("s: no_such_bucket (provider code NoSuchBucket): "),
        "{missing}"
    );
    let stray = finding_of(&findings, "vault-probe-failing", "stray");
    assert_eq!(
        stray["cause"],
        "Bucket stray holds top-level folders under prefix \"\" that Velero does not allow (tmp-export): at its next validation Velero marks the vault Unavailable and backups to it fail."
    );
    let hanging = finding_of(&findings, "vault-probe-failing", "hanging");
    assert!(
        hanging["evidence"][1]["fact"]
            .as_str()
            .unwrap()
            .ends_with("s: timeout: no answer within 2s"),
        "{hanging}"
    );
    for text in [&stdout, &stderr] {
        assert!(!text.contains(&s.moto.secret), "the secret leaked");
        assert!(!text.contains(&s.moto.key_id), "the access key id leaked");
    }

    // Without --probe nothing is probed and no finding rests on a probe.
    cmd.remove(1);
    let (stdout, _, _) = s.run(&cmd);
    let findings = doctor_findings(&stdout);
    assert!(
        !findings
            .iter()
            .any(|f| f["rule"] == "vault-probe-failing" || stdout.contains("backupscope probe of")),
        "{stdout}"
    );
}

const NOW: &str = "2026-11-25T09:00:00Z";

#[test]
fn doctor_probe_on_the_example_buckets() {
    let (stdout, stderr, ok) = run(&[
        "doctor".into(),
        "--probe".into(),
        "-o".into(),
        "json".into(),
        "--snapshot".into(),
        "examples/ack-cluster".into(),
        "--vault-root".into(),
        "examples/buckets".into(),
        "--now".into(),
        NOW.into(),
    ]);
    assert!(!ok, "{stderr}");
    let findings = doctor_findings(&stdout);
    let rules: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["object"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    // The example's findings (tests/doctor_cli.rs), and the vault whose bucket holds a stray
    // folder, which the cluster still calls InProgress.
    assert_eq!(
        rules,
        [
            ("task-stuck", "before-k8s-upgrade-1124"),
            ("restore-failed", "restore-orders-drill"),
            ("vault-probe-failing", "audit-hz-vault"),
            ("vault-access-denied", "shared-oss-vault"),
            ("backup-failed", "prod-daily-20261117040100"),
            ("backup-partially-failed", "prod-daily-20261121040100"),
            ("backup-partially-failed", "shop-release-1119"),
            ("backup-failed", "weekly-full-20261108020000"),
            ("schedule-paused", "weekly-full"),
        ]
    );
    let audit = &findings[2];
    assert_eq!(
        audit["summary"],
        "vault audit-hz-vault is InProgress in the cluster, but its bucket fails backupscope's probe (invalid_layout)"
    );
    let facts: Vec<&str> = audit["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fact"].as_str().unwrap())
        .collect();
    assert_eq!(facts.len(), 2, "{facts:?}");
    assert!(
        facts[0].starts_with(
            "backupscope probe of file://examples/buckets/cnfs-oss-audit-archive-hz/audit failed after "
        ) && facts[0].ends_with(
            "s: invalid_layout: the prefix holds top-level folders Velero does not allow: tmp-export; Velero marks the vault Unavailable until they are moved"
        ),
        "{}",
        facts[0]
    );
    // Without a validation time it sorts after the probe.
    assert_eq!(facts[1], "phase InProgress (last validated never)");
    // The vault the cluster already calls Unavailable keeps its rule; the probe is one more fact.
    let shared = &findings[3];
    let probe: Vec<&str> = shared["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["fact"].as_str())
        .filter(|f| f.starts_with("backupscope probe"))
        .collect();
    assert_eq!(
        probe,
        [
            "backupscope probe failed after 0.000s: no_such_bucket: the bucket directory examples/buckets/cnfs-oss-shared-backup does not exist"
        ]
    );
}

#[test]
fn serve_doctor_uses_the_periodic_probe() {
    let serve = support::serve::Serve::start(&[
        "--snapshot",
        "examples/ack-cluster",
        "--now",
        NOW,
        "--vault-root",
        "examples/buckets",
        "--probe-interval",
        "1s",
    ]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let line = r#"backupcenter_doctor_findings{namespace="csdr",rule="vault-probe-failing",severity="critical"} 1"#;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = rt
            .block_on(support::http::get(&serve.url("/metrics"), &[]))
            .text();
        if metrics.lines().any(|l| l == line) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no {line} after 30s:\n{metrics}\n{}",
            serve.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let doc: Value = serde_json::from_str(
        &rt.block_on(support::http::get(&serve.url("/api/v1/doctor"), &[]))
            .text(),
    )
    .expect("doctor document");
    let findings = doc["findings"].as_array().cloned().unwrap_or_default();
    let audit = finding_of(&findings, "vault-probe-failing", "audit-hz-vault");
    assert_eq!(audit["severity"], "critical");
    assert!(
        audit["evidence"][0]["fact"].as_str().unwrap().contains(
            "invalid_layout: the prefix holds top-level folders Velero does not allow: tmp-export"
        ),
        "{audit}"
    );
}

#[test]
fn describe_shows_the_probe() {
    let s = setup();
    let (stdout, stderr, ok) = s.run(&["describe", "backuplocation", "wrong-secret", "--probe"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains(
            "Probe:                Unavailable (access_denied, SignatureDoesNotMatch) in "
        ),
        "{stdout}"
    );
    let (stdout, stderr, ok) = s.run(&["describe", "backuplocation", "healthy", "--scan"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains(
            "Scan:                 4 backups in the bucket, 5 tasks in the cluster, 4 findings\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("  b-notar      missing_tarball     Completed   Completed\n"),
        "{stdout}"
    );
    // Without --probe nothing is sent and the JSON has no probe field.
    let (stdout, _, _) = s.run(&["describe", "backuplocation", "healthy", "-o", "json"]);
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    assert!(doc.get("probe").is_none(), "{doc}");
    assert!(doc.get("scan").is_none(), "{doc}");
}

#[test]
fn serve_exports_the_probes_of_the_example_buckets() {
    let serve = support::serve::Serve::start(&[
        "--snapshot",
        "examples/ack-cluster",
        "--vault-root",
        "examples/buckets",
        "--probe-interval",
        "1s",
        "--scan-interval",
        "1s",
    ]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let r = rt.block_on(support::http::get(&serve.url("/metrics"), &[]));
        let text = r.text();
        // Scans run one vault after the other; prod-hz-vault's means the first round is done.
        if text.contains(r#"scan_findings{namespace="csdr",backuplocation="shared-oss-vault""#)
            || text.contains(r#"scan_success{namespace="csdr",backuplocation="shared-oss-vault"}"#)
        {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "no probe series after 30s:\n{}",
            serve.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let lines: Vec<&str> = body
        .lines()
        .filter(|l| {
            l.starts_with("backupcenter_backuplocation_probe_error_info")
                || l.starts_with("backupcenter_backuplocation_probe_success")
        })
        .collect();
    assert_eq!(
        lines,
        [
            r#"backupcenter_backuplocation_probe_success{namespace="csdr",backuplocation="audit-hz-vault"} 0"#,
            r#"backupcenter_backuplocation_probe_success{namespace="csdr",backuplocation="dr-bj-vault"} 1"#,
            r#"backupcenter_backuplocation_probe_success{namespace="csdr",backuplocation="prod-hz-vault"} 1"#,
            r#"backupcenter_backuplocation_probe_success{namespace="csdr",backuplocation="shared-oss-vault"} 0"#,
            r#"backupcenter_backuplocation_probe_error_info{namespace="csdr",backuplocation="audit-hz-vault",reason="invalid_layout",code=""} 1"#,
            r#"backupcenter_backuplocation_probe_error_info{namespace="csdr",backuplocation="shared-oss-vault",reason="no_such_bucket",code=""} 1"#,
        ]
    );
    for finding in ["missing_tarball", "orphan_backup", "phase_mismatch"] {
        let line = format!(
            r#"backupcenter_backuplocation_scan_findings{{namespace="csdr",backuplocation="prod-hz-vault",finding="{finding}"}} 1"#
        );
        assert!(body.contains(&line), "missing {line}");
    }
}

#[test]
fn credentials_from_the_environment_and_oss_key_names() {
    let moto = Moto::start();
    let dir = TempDir::new("vault-s3-env");
    let mut oss = with(
        bsl("oss-vault", "velero-prod", "cluster-a"),
        "/spec/provider",
        json!("alibabacloud"),
    );
    set_region(&mut oss);
    write_snapshot(
        dir.path(),
        vec![(
            "bsl.json",
            vec![bsl("from-env", "velero-prod", "cluster-a"), oss],
        )],
    );
    // The alibabacloud plugin's credentials file format.
    let oss_file = dir.write(
        "oss-credentials",
        format!(
            "ALIBABA_CLOUD_ACCESS_KEY_ID={}\nALIBABA_CLOUD_ACCESS_KEY_SECRET={}\n",
            moto.key_id, moto.secret
        ),
    );
    let args: Vec<String> = [
        "probe",
        "-o",
        "json",
        "--snapshot",
        &dir.path().display().to_string(),
        "--vault-endpoint",
        &format!("from-env={}", moto.endpoint),
        "--vault-endpoint",
        &format!("oss-vault={}", moto.endpoint),
        "--vault-credentials",
        &format!("oss-vault={}", oss_file.display()),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (stdout, stderr, ok) = run_with_env(
        &args,
        &[
            ("AWS_ACCESS_KEY_ID", &moto.key_id),
            ("AWS_SECRET_ACCESS_KEY", &moto.secret),
        ],
    );
    assert!(ok, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    let rows = doc["probes"].as_array().expect("probes");
    for name in ["from-env", "oss-vault"] {
        assert_eq!(
            by_name(rows, name)["success"],
            json!(true),
            "{}",
            by_name(rows, name)
        );
    }
    // Without the environment, the vault without a file has no usable credentials.
    let (stdout, _, _) = run(&args);
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    let row = by_name(doc["probes"].as_array().unwrap(), "from-env");
    assert_eq!(row["success"], json!(false), "{row}");
    assert!(!stdout.contains(&moto.secret));
}

/// An OSS region outside China: moto keeps the IAM users of `cn-*` regions in another
/// partition, where the test's user does not exist.
fn set_region(o: &mut Value) {
    support::builders::set(
        o,
        "/spec/config",
        json!({"region": "ap-southeast-1", "network": "internal"}),
    );
}

#[test]
fn the_endpoint_comes_from_the_bsl_s3url() {
    let moto = Moto::start();
    let dir = TempDir::new("vault-s3-url");
    // A MinIO-style BSL: the endpoint only in spec.config, as Velero's AWS plugin reads it.
    let minio = with(
        bsl("minio", "velero-prod", "cluster-a"),
        "/spec/config",
        json!({"region": "us-east-1", "s3ForcePathStyle": "true", "s3Url": moto.endpoint}),
    );
    let overridden = with(
        bsl("overridden", "velero-prod", "cluster-a"),
        "/spec/config",
        json!({"region": "us-east-1", "s3ForcePathStyle": "true", "s3Url": moto.endpoint}),
    );
    write_snapshot(dir.path(), vec![("bsl.json", vec![minio, overridden])]);
    let credentials = dir.write(
        "credentials",
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            moto.key_id, moto.secret
        ),
    );
    let closed = free_port();
    let args: Vec<String> = [
        "probe".to_string(),
        "-o".into(),
        "json".into(),
        "--snapshot".into(),
        dir.path().display().to_string(),
        "--vault-credentials".into(),
        format!("minio={}", credentials.display()),
        "--vault-credentials".into(),
        format!("overridden={}", credentials.display()),
        // The flag wins over the spec.
        "--vault-endpoint".into(),
        format!("overridden=http://127.0.0.1:{closed}"),
    ]
    .to_vec();
    let (stdout, stderr, ok) = run(&args);
    assert!(ok, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    let rows = doc["probes"].as_array().expect("probes");
    let minio = by_name(rows, "minio");
    assert_eq!(minio["success"], json!(true), "{minio}");
    assert_eq!(
        minio["location"],
        json!(format!("s3://velero-prod/cluster-a ({})", moto.endpoint))
    );
    assert_eq!(minio["folders"], json!(["backups", "kopia"]));
    let overridden = by_name(rows, "overridden");
    assert_eq!(overridden["reason"], json!("network"), "{overridden}");
    assert_eq!(
        overridden["location"],
        json!(format!(
            "s3://velero-prod/cluster-a (http://127.0.0.1:{closed})"
        ))
    );
    // describe -o json shows the vault's config (never its credentials).
    let (stdout, _, _) = run(&[
        "describe".into(),
        "backuplocation".into(),
        "minio".into(),
        "-o".into(),
        "json".into(),
        "--snapshot".into(),
        dir.path().display().to_string(),
    ]);
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        doc["config"],
        json!({"region": "us-east-1", "s3ForcePathStyle": "true", "s3Url": moto.endpoint})
    );
}

/// A self-signed certificate for 127.0.0.1 (no CA trusts it), made with the openssl CLI.
fn self_signed(dir: &TempDir) -> (PathBuf, PathBuf) {
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
        ])
        .current_dir(dir.path())
        .output()
        .expect("run openssl (Debian package openssl)");
    assert!(
        out.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir.path().join("cert.pem"), dir.path().join("key.pem"))
}

#[test]
fn insecure_skip_tls_verify_in_the_bsl_is_honoured() {
    let dir = TempDir::new("vault-insecure");
    let (cert, key) = self_signed(&dir);
    // Any HTTPS server with a self-signed certificate: backupscope's own serve.
    let https = support::serve::Serve::start(&[
        OsStr::new("--snapshot"),
        OsStr::new("examples/velero-cluster"),
        OsStr::new("--tls-cert"),
        cert.as_os_str(),
        OsStr::new("--tls-key"),
        key.as_os_str(),
    ]);
    let url = format!("https://{}", https.address());
    let config = |insecure: Option<&str>| {
        let mut c = json!({"region": "us-east-1", "s3ForcePathStyle": "true", "s3Url": url});
        if let Some(v) = insecure {
            c["insecureSkipTLSVerify"] = json!(v);
        }
        c
    };
    let snapshot = dir.path().join("snapshot");
    std::fs::create_dir_all(&snapshot).expect("mkdir");
    write_snapshot(
        &snapshot,
        vec![(
            "bsl.json",
            vec![
                with(bsl("strict", "b", ""), "/spec/config", config(None)),
                with(
                    bsl("insecure", "b", ""),
                    "/spec/config",
                    config(Some("true")),
                ),
            ],
        )],
    );
    // Some key, so the S3 client signs the request instead of asking an instance metadata
    // service for credentials.
    let keys = dir.write(
        "credentials",
        "[default]\naws_access_key_id = AKIATESTTESTTEST0000\naws_secret_access_key = x\n",
    );
    let mut args: Vec<String> = vec![
        "probe".into(),
        "-o".into(),
        "json".into(),
        "--snapshot".into(),
        snapshot.display().to_string(),
    ];
    for v in ["strict", "insecure"] {
        args.push("--vault-credentials".into());
        args.push(format!("{v}={}", keys.display()));
    }
    let (stdout, stderr, ok) = run(&args);
    assert!(ok, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("json");
    let rows = doc["probes"].as_array().expect("probes");
    let strict = by_name(rows, "strict");
    assert_eq!(strict["reason"], json!("tls"), "{strict}");
    // The handshake passes; what answers is not an S3 server, which is another failure.
    let insecure = by_name(rows, "insecure");
    assert_ne!(insecure["reason"], json!("tls"), "{insecure}");
    assert_eq!(insecure["success"], json!(false), "{insecure}");
    assert_eq!(
        insecure["location"],
        json!(format!("s3://b/ ({url}, certificate not verified)"))
    );
}
