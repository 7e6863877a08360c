//! A real Prometheus scrapes the exposition in both formats: the scrape must succeed and every
//! hostile label value must come back exactly as exported.
//!
//! promtool only lints 0.0.4, so this is also the reference check of the OpenMetrics output.

mod support;

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, header},
    response::IntoResponse,
    routing::get,
};
use backupscope::metrics::{
    exposition::{Format, TextEncoder},
    sink::capped_label_value,
};
use support::{
    fixture,
    prometheus::{Prometheus, PrometheusOptions, ScrapeTarget},
};

/// The formats served to scrapers so far.
type Served = Arc<Mutex<BTreeSet<&'static str>>>;

fn render(format: Format) -> impl IntoResponse {
    let mut body = Vec::new();
    let mut encoder = TextEncoder::new(&mut body, format);
    fixture::write(&mut encoder);
    encoder.finish();
    ([(header::CONTENT_TYPE, format.content_type())], body)
}

async fn negotiated(State(served): State<Served>, headers: HeaderMap) -> impl IntoResponse {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept);
    served.lock().unwrap().insert(format.content_type());
    render(format)
}

async fn text_only() -> impl IntoResponse {
    render(Format::Prometheus004)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_both_formats_and_keeps_label_values_intact() {
    let served = Served::default();
    let app = Router::new()
        .route("/metrics", get(negotiated))
        .route("/metrics-text", get(text_only))
        .with_state(served.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let target = |job: &str, path: &str| ScrapeTarget {
        job: job.to_owned(),
        address: address.clone(),
        metrics_path: path.to_owned(),
        settings: String::new(),
    };
    let prometheus = Prometheus::start(PrometheusOptions {
        targets: vec![
            target("negotiated", "/metrics"),
            target("text", "/metrics-text"),
        ],
        scrape_interval: Duration::from_millis(500),
        ..Default::default()
    })
    .await;

    let mut body = Vec::new();
    let expected_samples = fixture::write(&mut TextEncoder::new(&mut body, Format::Prometheus004));
    let scraped = prometheus
        .wait_for(
            "scrape_samples_scraped",
            Duration::from_secs(30),
            |result| result.len() == 2,
        )
        .await;
    let up = prometheus.query("up").await;
    for job in ["negotiated", "text"] {
        let job_up = up.iter().find(|(labels, _)| labels["job"] == job);
        assert_eq!(
            job_up.map(|(_, v)| *v),
            Some(1.0),
            "scrape of job {job} failed: {up:?}\n{}",
            prometheus.log()
        );
        let samples = scraped
            .iter()
            .find(|(labels, _)| labels["job"] == job)
            .map(|(_, v)| *v);
        assert_eq!(
            samples,
            Some(expected_samples as f64),
            "samples scraped by job {job}"
        );
    }
    // Prometheus asks for OpenMetrics first, so the negotiated endpoint served it.
    assert_eq!(
        *served.lock().unwrap(),
        BTreeSet::from([Format::OpenMetrics100.content_type()])
    );

    let expected: BTreeSet<String> = fixture::hostile_values()
        .iter()
        .map(|v| capped_label_value(v).into_owned())
        .collect();
    assert_eq!(
        expected.len(),
        fixture::hostile_values().len(),
        "capped values collide"
    );
    for job in ["negotiated", "text"] {
        let info = prometheus
            .query(&format!(
                "backupcenter_backuplocation_info{{job=\"{job}\"}}"
            ))
            .await;
        let got: BTreeSet<String> = info
            .iter()
            .map(|(labels, _)| labels["backuplocation"].clone())
            .collect();
        assert_eq!(got, expected, "label values scraped by job {job}");

        let values = prometheus
            .query(&format!("backupscope_test_value{{job=\"{job}\"}}"))
            .await;
        let value = |case: &str| {
            values
                .iter()
                .find(|(labels, _)| labels["case"] == case)
                .map(|(_, v)| *v)
        };
        assert_eq!(value("timestamp"), Some(1_764_000_000.0), "job {job}");
        assert_eq!(value("tiny"), Some(1.5e-7), "job {job}");
        assert_eq!(value("huge"), Some(2.5e300), "job {job}");
        assert_eq!(value("minus_inf"), Some(f64::NEG_INFINITY), "job {job}");
        assert!(value("nan").is_some_and(f64::is_nan), "job {job}");

        let restarts = prometheus
            .query(&format!(
                "backupcenter_component_pod_restarts_total{{job=\"{job}\"}}"
            ))
            .await;
        assert_eq!(restarts.len(), 1, "job {job}: {restarts:?}");
        assert_eq!(restarts[0].1, 3.0);
    }
}
