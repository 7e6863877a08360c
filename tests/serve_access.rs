//! Who may read `serve`: `--auth-token-file` (Bearer for Prometheus, Basic for a browser) and
//! `--tls-client-ca` (mutual TLS), each scraped by a real Prometheus configured as the
//! README's "Securing serve" section shows. With a token, the health endpoints stay open for
//! kubelet probes.

mod support;

use base64::Engine as _;
use std::ffi::OsStr;
use std::time::Duration;
use support::{
    http,
    pki::Pki,
    prometheus::{Prometheus, PrometheusOptions, ScrapeTarget},
    serve::{Serve, example},
    tempdir::TempDir,
};

const TOKEN: &str = "tok-3f9a1c77e2b04d5e9b1a";
const WAIT: Duration = Duration::from_secs(30);

fn json(s: &std::path::Path) -> String {
    serde_json::Value::from(s.to_string_lossy()).to_string()
}

/// The error Prometheus reports for the target of `job`.
async fn last_error(prometheus: &Prometheus, job: &str) -> String {
    for _ in 0..60 {
        let targets = prometheus.api("/api/v1/targets").await;
        let error = targets["activeTargets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["labels"]["job"] == job)
            .and_then(|t| t["lastError"].as_str().map(str::to_string))
            .unwrap_or_default();
        if !error.is_empty() {
            return error;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("job {job} never failed a scrape")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_everything_but_the_health_endpoints() {
    let dir = TempDir::new("access-token");
    let token_file = dir.write("token", format!("{TOKEN}\n"));
    let snapshot = example("ack-cluster");
    let serve = Serve::start(&[
        OsStr::new("--snapshot"),
        snapshot.as_os_str(),
        OsStr::new("--auth-token-file"),
        token_file.as_os_str(),
    ]);

    for open in ["/healthz", "/readyz"] {
        assert_eq!(http::get(&serve.url(open), &[]).await.status, 200, "{open}");
    }
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{TOKEN}"))
    );
    let bearer = format!("Bearer {TOKEN}");
    for path in ["/metrics", "/", "/api/v1/backups", "/no-such-page"] {
        let anonymous = http::get(&serve.url(path), &[]).await;
        assert_eq!(anonymous.status, 401, "{path}");
        assert_eq!(anonymous.text(), "unauthorized\n");
        let challenges: Vec<&str> = anonymous
            .headers
            .get_all("www-authenticate")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert_eq!(
            challenges,
            [
                "Bearer realm=\"backupscope\"",
                "Basic realm=\"backupscope\", charset=\"UTF-8\""
            ]
        );
        let wrong = http::get(&serve.url(path), &[("authorization", "Bearer nope")]).await;
        assert_eq!(wrong.status, 401, "{path}");
        let expected = if path == "/no-such-page" { 404 } else { 200 };
        for credentials in [&bearer, &basic] {
            let admitted = http::get(&serve.url(path), &[("authorization", credentials)]).await;
            assert_eq!(admitted.status, expected, "{path} with {credentials}");
        }
    }

    // A real Prometheus: the job with `authorization.credentials_file` is up, the one
    // without is refused with 401.
    let prometheus = Prometheus::start(PrometheusOptions {
        targets: vec![
            ScrapeTarget {
                job: "authorized".into(),
                address: serve.address().into(),
                metrics_path: "/metrics".into(),
                settings: format!(
                    "    authorization:\n      type: Bearer\n      credentials_file: {}\n",
                    json(&token_file)
                ),
            },
            ScrapeTarget {
                job: "anonymous".into(),
                address: serve.address().into(),
                metrics_path: "/metrics".into(),
                settings: String::new(),
            },
        ],
        ..PrometheusOptions::default()
    })
    .await;
    prometheus.wait_up("authorized", WAIT, "bearer token").await;
    let samples = prometheus
        .query("backupcenter_backuplocation_info{job=\"authorized\"}")
        .await;
    let mut vaults: Vec<&str> = samples
        .iter()
        .filter_map(|(labels, _)| labels.get("backuplocation").map(String::as_str))
        .collect();
    vaults.sort();
    assert_eq!(
        vaults,
        [
            "audit-hz-vault",
            "dr-bj-vault",
            "prod-hz-vault",
            "shared-oss-vault"
        ]
    );
    let error = last_error(&prometheus, "anonymous").await;
    assert!(error.contains("401"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_of_the_named_ca_only() {
    let dir = TempDir::new("access-mtls");
    let pki = Pki::new(&dir);
    let snapshot = example("velero-cluster");
    let serve = Serve::start(&[
        OsStr::new("--snapshot"),
        snapshot.as_os_str(),
        OsStr::new("--tls-cert"),
        pki.cert.as_os_str(),
        OsStr::new("--tls-key"),
        pki.key.as_os_str(),
        OsStr::new("--tls-client-ca"),
        pki.ca.as_os_str(),
    ]);
    let job = |name: &str, client: Option<(&std::path::Path, &std::path::Path)>| ScrapeTarget {
        job: name.into(),
        address: serve.address().into(),
        metrics_path: "/metrics".into(),
        settings: format!(
            "    scheme: https\n    tls_config:\n      ca_file: {}\n{}",
            json(&pki.ca),
            client.map_or_else(String::new, |(cert, key)| format!(
                "      cert_file: {}\n      key_file: {}\n",
                json(cert),
                json(key)
            ))
        ),
    };
    let prometheus = Prometheus::start(PrometheusOptions {
        targets: vec![
            job("trusted", Some((&pki.client_cert, &pki.client_key))),
            job("rogue", Some((&pki.rogue_cert, &pki.rogue_key))),
            job("anonymous", None),
        ],
        ..PrometheusOptions::default()
    })
    .await;
    prometheus
        .wait_up("trusted", WAIT, "client certificate")
        .await;
    for refused in ["rogue", "anonymous"] {
        let error = last_error(&prometheus, refused).await;
        assert!(
            error.contains("tls") || error.contains("certificate"),
            "{refused}: {error}"
        );
    }
    // Without a client certificate even the health endpoints are closed: the handshake is
    // where mutual TLS decides.
    let anonymous =
        http::try_get_with(&http::https_client(&pki.ca), &serve.url("/healthz"), &[]).await;
    assert!(anonymous.is_err(), "{anonymous:?}");
}

#[test]
fn bad_access_files_are_refused_at_start_naming_the_flag() {
    let dir = TempDir::new("access-bad");
    let pki = Pki::new(&dir);
    let snapshot = example("ack-cluster");
    let empty = dir.write("empty-token", "\n");
    let not_pem = dir.write("not-a-ca.pem", "hello");
    let cases: [(Vec<&OsStr>, &str); 3] = [
        (
            vec![OsStr::new("--auth-token-file"), empty.as_os_str()],
            "--auth-token-file",
        ),
        (
            vec![
                OsStr::new("--auth-token-file"),
                dir.path().join("missing").into_os_string().leak(),
            ],
            "cannot read --auth-token-file",
        ),
        (
            vec![
                OsStr::new("--tls-cert"),
                pki.cert.as_os_str(),
                OsStr::new("--tls-key"),
                pki.key.as_os_str(),
                OsStr::new("--tls-client-ca"),
                not_pem.as_os_str(),
            ],
            "--tls-client-ca",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec![OsStr::new("--snapshot"), snapshot.as_os_str()];
        args.extend(extra);
        match Serve::try_start(&args) {
            Ok(serve) => panic!("serve {args:?} started at {}", serve.url("/")),
            Err(failure) => {
                assert!(
                    failure.stderr.contains(expected),
                    "{args:?}: {}",
                    failure.stderr
                );
                assert!(!failure.stderr.contains(TOKEN));
            }
        }
    }
}

/// The assets are compiled in and routed by exact path: no request reaches the file system.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_path_reaches_the_file_system() {
    let snapshot = example("ack-cluster");
    let serve = Serve::start(&[OsStr::new("--snapshot"), snapshot.as_os_str()]);
    for path in [
        "/assets/../../../../etc/passwd",
        "/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/assets/..%2f..%2f..%2fetc%2fpasswd",
        "/..%5c..%5cetc%5cpasswd",
        "/assets/app.js/../../../etc/passwd",
        "//etc/passwd",
        "/assets/",
        "/assets/app.js.map",
    ] {
        let response = http::get(&serve.url(path), &[]).await;
        assert_eq!(response.status, 404, "{path}");
        assert!(!response.text().contains("root:"), "{path}");
    }
    let script = http::get(&serve.url("/assets/app.js"), &[]).await;
    assert_eq!(script.status, 200);
}
