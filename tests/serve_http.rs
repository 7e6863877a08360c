//! The HTTP surface of the real `backupscope serve`: content negotiation, gzip, health and
//! readiness, the landing page, `--disable-metric`, TLS, and the errors a user gets at start.

mod support;

use std::{ffi::OsStr, io::Read as _, path::Path};

use support::{
    http::{self, Response},
    pki::Pki,
    serve::{Serve, StartFailure, example},
    tempdir::TempDir,
};

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// What Prometheus 2.x sends.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,\
    application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// The one line that changes from scrape to scrape.
const DURATION: &str = "backupscope_last_scrape_duration_seconds";

fn ack() -> Serve {
    serve_ack(&[])
}

fn serve_ack(extra: &[&str]) -> Serve {
    let snapshot = example("ack-cluster");
    let mut args = vec![OsStr::new("--snapshot"), snapshot.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    Serve::start(&args)
}

fn refused(args: &[&OsStr]) -> StartFailure {
    match Serve::try_start(args) {
        Ok(serve) => panic!("serve {args:?} started at {}", serve.url("/")),
        Err(failure) => failure,
    }
}

/// Sample lines without the scrape duration, which differs between two scrapes.
fn stable_samples(body: &str) -> Vec<&str> {
    body.lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with(DURATION))
        .collect()
}

async fn metrics(serve: &Serve, headers: &[(&str, &str)]) -> Response {
    let response = http::get(&serve.url("/metrics"), headers).await;
    assert_eq!(response.status, 200, "{headers:?}\n{}", serve.stderr());
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_type_follows_the_accept_header() {
    let serve = ack();
    let text = metrics(&serve, &[]).await;
    assert_eq!(text.header("content-type"), Some(TEXT));
    assert!(text.text().contains(
        "backupcenter_backups{namespace=\"csdr\",backuplocation=\"prod-hz-vault\",backuplocation_exists=\"true\",phase=\"Completed\"} 17\n"
    ));
    for (accept, expected) in [
        ("text/plain;version=0.0.4", TEXT),
        ("text/plain", TEXT),
        ("*/*", TEXT),
        ("application/json", TEXT),
        ("application/openmetrics-text;version=1.0.0", OPENMETRICS),
        ("application/openmetrics-text", OPENMETRICS),
        (PROMETHEUS_ACCEPT, OPENMETRICS),
        // OpenMetrics only when the client prefers it.
        (
            "application/openmetrics-text;version=1.0.0;q=0.2,text/plain;q=0.9",
            TEXT,
        ),
        // An OpenMetrics version we do not speak.
        ("application/openmetrics-text;version=2.0.0", TEXT),
    ] {
        let response = metrics(&serve, &[("accept", accept)]).await;
        assert_eq!(response.header("content-type"), Some(expected), "{accept}");
    }

    let openmetrics = metrics(&serve, &[("accept", PROMETHEUS_ACCEPT)])
        .await
        .text();
    assert!(openmetrics.ends_with("\n# EOF\n"));
    assert!(openmetrics.contains("# TYPE backupcenter_backup_failed info\n"));
    // Both formats carry the same samples.
    assert_eq!(
        stable_samples(openmetrics.trim_end_matches("# EOF\n")),
        stable_samples(&text.text())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_when_asked_and_only_then() {
    let serve = ack();
    for accept in [TEXT, OPENMETRICS] {
        let plain = metrics(&serve, &[("accept", accept)]).await;
        assert_eq!(plain.header("content-encoding"), None);
        let zipped = metrics(
            &serve,
            &[("accept", accept), ("accept-encoding", "gzip, deflate, br")],
        )
        .await;
        assert_eq!(zipped.header("content-encoding"), Some("gzip"));
        assert_eq!(zipped.header("content-type"), plain.header("content-type"));
        assert!(
            zipped.body.len() < plain.body.len() / 4,
            "barely compressed"
        );
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&zipped.body[..])
            .read_to_string(&mut unzipped)
            .expect("a gzip body");
        assert_eq!(stable_samples(&unzipped), stable_samples(&plain.text()));
    }
    let refused = metrics(&serve, &[("accept-encoding", "gzip;q=0, identity")]).await;
    assert_eq!(refused.header("content-encoding"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_a_landing_page_that_links_to_the_metrics() {
    let serve = ack();
    let healthz = http::get(&serve.url("/healthz"), &[]).await;
    assert_eq!(healthz.status, 200);
    // A snapshot is loaded before the port opens, so it is ready at once.
    let readyz = http::get(&serve.url("/readyz"), &[]).await;
    assert_eq!(readyz.status, 200, "{}", readyz.text());

    let landing = http::get(&serve.url("/"), &[]).await;
    assert_eq!(landing.status, 200);
    assert!(
        landing
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        landing.header("content-type")
    );
    let page = landing.text();
    let link = page
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.trim_start_matches('/').starts_with("metrics"))
        .unwrap_or_else(|| panic!("no link to the metrics:\n{page}"));
    // Relative to the page at /.
    let followed = http::get(
        &serve.url(&format!("/{}", link.trim_start_matches('/'))),
        &[],
    )
    .await;
    assert_eq!(followed.status, 200);
    assert!(followed.text().contains("backupcenter_backups{"));

    let missing = http::get(&serve.url("/nope"), &[]).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_families_are_not_exported() {
    let serve = serve_ack(&[
        "--disable-metric",
        "backupcenter_backup_failed_info",
        "--disable-metric",
        "backupcenter_warning_events_total",
    ]);
    for accept in [TEXT, OPENMETRICS] {
        let body = metrics(&serve, &[("accept", accept)]).await.text();
        for gone in ["backupcenter_backup_failed", "backupcenter_warning_events"] {
            assert!(
                !body.lines().any(|line| line.contains(gone)),
                "{gone} still in the {accept} output"
            );
        }
        // Only those: the neighbours stay, and the series count skips what is off.
        assert!(body.contains("\nbackupcenter_backups{"));
        assert!(body.contains("\nbackupcenter_backup_completion_timestamp_seconds{"));
        assert!(body.contains(
            "backupscope_series{family=\"backupcenter_backup_completion_timestamp_seconds\"} 8\n"
        ));
    }
}

#[test]
fn a_family_that_cannot_be_disabled_is_refused() {
    let snapshot = example("ack-cluster");
    for family in ["backupcenter_backups", "no_such_family"] {
        let failure = refused(&[
            OsStr::new("--snapshot"),
            snapshot.as_os_str(),
            OsStr::new("--disable-metric"),
            OsStr::new(family),
        ]);
        assert!(
            failure.status.is_some_and(|s| !s.success()),
            "{family}: {failure:?}"
        );
        for needle in [
            family,
            "not a family that can be turned off",
            // The message lists what may be turned off.
            "backupcenter_backup_failed_info",
        ] {
            assert!(
                failure.stderr.contains(needle),
                "{family}: no {needle:?} in:\n{}",
                failure.stderr
            );
        }
    }
}

#[test]
fn a_busy_listen_address_is_refused_with_the_address() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = busy.local_addr().expect("local address").to_string();
    let snapshot = example("ack-cluster");
    let failure = refused(&[
        OsStr::new("--snapshot"),
        snapshot.as_os_str(),
        OsStr::new("--listen"),
        OsStr::new(&address),
    ]);
    assert!(failure.status.is_some_and(|s| !s.success()), "{failure:?}");
    assert!(
        failure
            .stderr
            .contains(&format!("cannot listen on {address}")),
        "{}",
        failure.stderr
    );
}

/// `serve` arguments for HTTPS on a snapshot.
fn tls_args<'a>(snapshot: &'a Path, pki: &'a Pki) -> [&'a OsStr; 6] {
    [
        OsStr::new("--snapshot"),
        snapshot.as_os_str(),
        OsStr::new("--tls-cert"),
        pki.cert.as_os_str(),
        OsStr::new("--tls-key"),
        pki.key.as_os_str(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_metrics_over_https() {
    let dir = TempDir::new("tls");
    let pki = Pki::new(&dir);
    let snapshot = example("ack-cluster");
    let serve = Serve::start(&tls_args(&snapshot, &pki));
    assert_eq!(serve.scheme(), "https");

    let client = http::https_client(&pki.ca);
    let response = http::get_with(&client, &serve.url("/metrics"), &[]).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some(TEXT));
    assert!(response.text().contains(
        "backupcenter_component_pod_last_termination_info{namespace=\"csdr\",component=\"csdr-velero\""
    ));
    let zipped = http::get_with(
        &client,
        &serve.url("/metrics"),
        &[("accept", PROMETHEUS_ACCEPT), ("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(zipped.header("content-type"), Some(OPENMETRICS));
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    let landing = http::get_with(&client, &serve.url("/"), &[]).await;
    assert_eq!(landing.status, 200);

    // Plain HTTP on the TLS port gets no answer.
    let plain = http::try_get_with(
        &http::client(),
        &format!("http://{}/metrics", serve.address()),
        &[],
    )
    .await;
    assert!(plain.is_err(), "{plain:?}");
}

#[test]
fn tls_files_are_checked_at_start() {
    let dir = TempDir::new("tls-errors");
    let pki = Pki::new(&dir);
    let snapshot = example("ack-cluster");
    let missing_key = dir.path().join("no-such.key");
    let missing_cert = dir.path().join("no-such.pem");
    let start = |cert: &Path, key: &Path| {
        refused(&[
            OsStr::new("--snapshot"),
            snapshot.as_os_str(),
            OsStr::new("--tls-cert"),
            cert.as_os_str(),
            OsStr::new("--tls-key"),
            key.as_os_str(),
        ])
    };
    for (cert, key, needle) in [
        (&pki.cert, &missing_key, missing_key.display().to_string()),
        (&missing_cert, &pki.key, missing_cert.display().to_string()),
        // The CA's key does not belong to the server certificate.
        (&pki.cert, &pki.ca_key, "do not match".to_owned()),
    ] {
        let failure = start(cert, key);
        assert!(failure.status.is_some_and(|s| !s.success()), "{failure:?}");
        assert!(
            failure.stderr.contains(&needle),
            "no {needle:?} in:\n{}",
            failure.stderr
        );
    }

    // A certificate without its key is a usage error.
    let failure = refused(&[
        OsStr::new("--snapshot"),
        snapshot.as_os_str(),
        OsStr::new("--tls-cert"),
        pki.cert.as_os_str(),
    ]);
    assert!(failure.status.is_some_and(|s| !s.success()), "{failure:?}");
    assert!(failure.stderr.contains("--tls-key"), "{}", failure.stderr);
}

/// Issue 13 item 1: TLS `serve` out of file descriptors (`ulimit -n 256`, 300 connections that
/// never start a handshake). The accept loop used to retry EMFILE at once: >100 % CPU and
/// ~3 million log lines in 5 s. Now it pauses, logs at most once per 10 s, sheds the silent
/// clients, and /metrics over HTTPS answers within 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_out_of_descriptors_backs_off_and_keeps_answering() {
    const FD_LIMIT: u32 = 256;
    const CONNECTIONS: usize = 300;
    const METRICS_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);
    let dir = TempDir::new("tls-emfile");
    let pki = Pki::new(&dir);
    let snapshot = example("ack-cluster");
    let serve = Serve::start_with_fd_limit(FD_LIMIT, &tls_args(&snapshot, &pki));
    let address: std::net::SocketAddr = serve.address().parse().expect("address");
    let silent: Vec<_> = (0..CONNECTIONS)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_secs(1)).ok()
        })
        .collect();
    assert!(
        silent.len() > FD_LIMIT as usize,
        "{} connections",
        silent.len()
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let started = std::time::Instant::now();
    let response = http::get_with(&http::https_client(&pki.ca), &serve.url("/metrics"), &[]).await;
    let took = started.elapsed();
    assert_eq!(response.status, 200);
    assert!(took < METRICS_WITHIN, "{took:?}\n{}", serve.stderr());
    let log = serve.stderr();
    let lines = log.lines().count();
    assert!(lines <= 2, "{lines} log lines:\n{log}");
    drop(silent);
}
