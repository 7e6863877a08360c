//! The sender against a scripted receiver on 127.0.0.1.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, extract::State, routing::post};
use bytes::Bytes;
use hyper::{HeaderMap, StatusCode};

use super::*;
use crate::metrics::remote_write::proto::{STALE_NAN_BITS, decode};

/// Answers requests from a script (then 204) and records what it received.
#[derive(Default)]
struct Receiver {
    script: Mutex<VecDeque<(u16, &'static str)>>,
    requests: Mutex<Vec<(HeaderMap, Vec<decode::DecodedSeries>)>>,
}

impl Receiver {
    fn requests(&self) -> Vec<(HeaderMap, Vec<decode::DecodedSeries>)> {
        self.requests.lock().unwrap().clone()
    }

    /// Per request: the `__name__` of each series and whether it was a stale marker.
    fn names(&self) -> Vec<Vec<(String, bool)>> {
        self.requests()
            .into_iter()
            .map(|(_, series)| {
                series
                    .into_iter()
                    .map(|(labels, samples)| (labels[0].1.clone(), samples[0].0 == STALE_NAN_BITS))
                    .collect()
            })
            .collect()
    }
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let request = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
    receiver
        .requests
        .lock()
        .unwrap()
        .push((headers, decode::write_request(&request)));
    let (status, body) = receiver
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((204, ""));
    (StatusCode::from_u16(status).unwrap(), body)
}

async fn start(script: &[(u16, &'static str)]) -> (Arc<Receiver>, String) {
    let receiver = Arc::new(Receiver::default());
    receiver
        .script
        .lock()
        .unwrap()
        .extend(script.iter().copied());
    let app = Router::new()
        .route("/api/v1/write", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (receiver, url)
}

fn config(url: &str) -> RemoteWriteConfig {
    RemoteWriteConfig {
        timeout: Duration::from_secs(5),
        min_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(10),
        max_attempts: 3,
        ..RemoteWriteConfig::new(url)
    }
}

fn series(names: &[&str]) -> Vec<TimeSeries> {
    names
        .iter()
        .map(|name| TimeSeries::new(name, &[("namespace", "csdr")], 1.0))
        .collect()
}

fn named(names: &[(&str, bool)]) -> Vec<(String, bool)> {
    names
        .iter()
        .map(|(n, stale)| ((*n).to_owned(), *stale))
        .collect()
}

#[tokio::test]
async fn vanished_series_get_one_stale_marker() {
    let (receiver, url) = start(&[]).await;
    let mut writer = RemoteWriter::new(config(&url)).unwrap();

    let first = writer.push(series(&["a", "b", "c"]), 1000).await.unwrap();
    assert_eq!(
        first,
        PushOutcome {
            series: 3,
            stale_markers: 0,
            requests: 1,
            retries: 0
        }
    );
    let second = writer.push(series(&["a", "c"]), 2000).await.unwrap();
    assert_eq!(second.stale_markers, 1);
    writer.push(series(&["a", "c"]), 3000).await.unwrap();
    writer.push(Vec::new(), 4000).await.unwrap();

    let names = receiver.names();
    assert_eq!(names[0], named(&[("a", false), ("b", false), ("c", false)]));
    assert_eq!(names[1], named(&[("a", false), ("c", false), ("b", true)]));
    assert_eq!(names[2], named(&[("a", false), ("c", false)]));
    let mut last = names[3].clone();
    last.sort();
    assert_eq!(last, named(&[("a", true), ("c", true)]));
    // The stale marker carries the push's timestamp and the full label set.
    let (_, request) = &receiver.requests()[1];
    assert_eq!(request[2].1, [(STALE_NAN_BITS, 2000)]);
    assert_eq!(
        request[2].0,
        [
            ("__name__".into(), "b".into()),
            ("namespace".into(), "csdr".into())
        ]
    );
}

#[tokio::test]
async fn required_and_extra_headers_are_sent() {
    let (receiver, url) = start(&[]).await;
    let token_file = std::env::temp_dir().join(format!("backupscope-token-{}", std::process::id()));
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let mut writer = RemoteWriter::new(RemoteWriteConfig {
        headers: vec![("X-Scope-OrgID".into(), "tenant-1".into())],
        bearer_token_file: Some(token_file.clone()),
        ..config(&url)
    })
    .unwrap();
    std::fs::remove_file(&token_file).unwrap();
    assert!(!format!("{writer:?}").contains("s3cret"));

    writer.push(series(&["a"]), 1000).await.unwrap();
    let (headers, _) = &receiver.requests()[0];
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    assert_eq!(header("content-encoding"), "snappy");
    assert_eq!(header("content-type"), "application/x-protobuf");
    assert_eq!(
        header("user-agent"),
        concat!("backupscope/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(header("x-prometheus-remote-write-version"), "0.1.0");
    assert_eq!(header("x-scope-orgid"), "tenant-1");
    assert_eq!(header("authorization"), "Bearer s3cret-token");
}

#[test]
fn reserved_headers_and_bad_urls_are_refused() {
    for name in [
        "Content-Type",
        "user-agent",
        "X-Prometheus-Remote-Write-Version",
        "Host",
    ] {
        let config = RemoteWriteConfig {
            headers: vec![(name.into(), "x".into())],
            ..config("http://127.0.0.1:1/")
        };
        let error = RemoteWriter::new(config).unwrap_err();
        assert!(
            matches!(error, RemoteWriteError::InvalidHeader { .. }),
            "{name}: {error}"
        );
    }
    let with_token = RemoteWriteConfig {
        headers: vec![("Authorization".into(), "Basic eA==".into())],
        bearer_token_file: Some("/nonexistent".into()),
        ..config("http://127.0.0.1:1/")
    };
    assert!(matches!(
        RemoteWriter::new(with_token).unwrap_err(),
        RemoteWriteError::InvalidHeader { .. }
    ));
    for url in [
        "127.0.0.1:9090/api/v1/write",
        "ftp://h/",
        "http://user:pw@h/",
        "not a url",
    ] {
        let error = RemoteWriter::new(config(url)).unwrap_err();
        assert!(
            matches!(error, RemoteWriteError::InvalidUrl { .. }),
            "{url}: {error}"
        );
        assert!(!error.to_string().contains("pw@") || url.contains("pw@"));
    }
    let missing = RemoteWriteConfig {
        bearer_token_file: Some("/nonexistent/token".into()),
        ..config("http://127.0.0.1:1/")
    };
    assert!(matches!(
        RemoteWriter::new(missing).unwrap_err(),
        RemoteWriteError::TokenFile { .. }
    ));
}

#[tokio::test]
async fn server_errors_are_retried() {
    let (receiver, url) = start(&[(500, "tsdb busy")]).await;
    let mut writer = RemoteWriter::new(config(&url)).unwrap();
    let outcome = writer.push(series(&["a"]), 1000).await.unwrap();
    assert_eq!(outcome.retries, 1);
    assert_eq!(receiver.requests().len(), 2);
}

#[tokio::test]
async fn too_many_requests_is_retried() {
    let (receiver, url) = start(&[(429, "slow down"), (429, "slow down")]).await;
    let mut writer = RemoteWriter::new(config(&url)).unwrap();
    let outcome = writer.push(series(&["a"]), 1000).await.unwrap();
    assert_eq!(outcome.retries, 2);
    assert_eq!(receiver.requests().len(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_carry_the_body() {
    let (receiver, url) = start(&[(400, "out of order sample")]).await;
    let mut writer = RemoteWriter::new(config(&url)).unwrap();
    let error = writer.push(series(&["a", "b"]), 1000).await.unwrap_err();
    match &error {
        RemoteWriteError::Rejected {
            status,
            body,
            rejected_series,
            accepted_series,
            ..
        } => {
            assert_eq!((*status, body.as_str()), (400, "out of order sample"));
            assert_eq!((*rejected_series, *accepted_series), (2, 0));
        }
        other => panic!("expected a rejection, got {other}"),
    }
    assert_eq!(receiver.requests().len(), 1);

    // The rejected series stay live: the next push still ends the vanished one.
    writer.push(series(&["a"]), 2000).await.unwrap();
    assert_eq!(receiver.names()[1], named(&[("a", false), ("b", true)]));
}

#[tokio::test]
async fn attempts_are_bounded() {
    let (receiver, url) = start(&[(503, "down"); 10]).await;
    let mut writer = RemoteWriter::new(config(&url)).unwrap();
    let error = writer
        .push(series(&["a", "b", "c"]), 1000)
        .await
        .unwrap_err();
    match error {
        RemoteWriteError::Unavailable {
            attempts,
            unsent_series,
            last_error,
            ..
        } => {
            assert_eq!((attempts, unsent_series), (3, 3));
            assert!(
                last_error.contains("503") && last_error.contains("down"),
                "{last_error}"
            );
        }
        other => panic!("expected unavailable, got {other}"),
    }
    assert_eq!(receiver.requests().len(), 3);
}

#[tokio::test]
async fn an_unreachable_receiver_is_unavailable() {
    // Bind then drop to get a loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut writer = RemoteWriter::new(config(&format!("http://127.0.0.1:{port}/"))).unwrap();
    let error = writer.push(series(&["a"]), 1000).await.unwrap_err();
    assert!(
        matches!(error, RemoteWriteError::Unavailable { attempts: 3, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn large_pushes_are_split_into_batches() {
    let (receiver, url) = start(&[(400, "bad batch")]).await;
    let mut writer = RemoteWriter::new(RemoteWriteConfig {
        max_series_per_request: 2,
        ..config(&url)
    })
    .unwrap();
    let error = writer
        .push(series(&["a", "b", "c", "d", "e"]), 1000)
        .await
        .unwrap_err();
    // The first batch is rejected; the other two still go out.
    assert!(matches!(
        error,
        RemoteWriteError::Rejected {
            rejected_series: 2,
            accepted_series: 3,
            ..
        }
    ));
    let sizes: Vec<usize> = receiver.names().iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1]);
}
