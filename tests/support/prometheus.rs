//! A real Prometheus server for end-to-end tests: started on a free loopback port with its own
//! temporary config and data directory, queried through its HTTP API, killed on drop.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::tempdir::TempDir;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

/// One `scrape_configs` entry with a single static target.
#[derive(Debug, Clone)]
pub struct ScrapeTarget {
    pub job: String,
    /// `host:port`, e.g. `127.0.0.1:8080`.
    pub address: String,
    pub metrics_path: String,
    /// More `scrape_configs` settings of this job as YAML lines indented by four spaces
    /// (`scheme`, `authorization`, `tls_config`, ...); empty for none.
    pub settings: String,
}

#[derive(Debug, Clone)]
pub struct PrometheusOptions {
    pub targets: Vec<ScrapeTarget>,
    pub scrape_interval: Duration,
    /// Starts the server with `--web.enable-remote-write-receiver` (`/api/v1/write`).
    pub remote_write_receiver: bool,
}

impl Default for PrometheusOptions {
    fn default() -> Self {
        PrometheusOptions {
            targets: Vec::new(),
            scrape_interval: Duration::from_secs(1),
            remote_write_receiver: false,
        }
    }
}

/// Rule evaluation and alert delivery, for [`Prometheus::start_alerting`].
#[derive(Debug, Clone)]
pub struct AlertingOptions {
    /// Rule files Prometheus loads (`rule_files`).
    pub rule_files: Vec<PathBuf>,
    /// Alertmanagers (`host:port`) it sends alerts to.
    pub alertmanagers: Vec<String>,
    pub evaluation_interval: Duration,
}

/// One instant-vector element: its labels and value.
pub type Sample = (BTreeMap<String, String>, f64);

pub struct Prometheus {
    child: Child,
    dir: TempDir,
    base_url: String,
    client: Client<HttpConnector, Empty<Bytes>>,
}

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

impl Prometheus {
    /// The prometheus binary: `$PROMETHEUS` or the Debian package's `/usr/bin/prometheus`.
    pub fn binary() -> PathBuf {
        super::debian_binary("PROMETHEUS", "/usr/bin/prometheus", "prometheus")
    }

    /// Starts Prometheus and waits until `/-/ready` answers 200.
    pub async fn start(options: PrometheusOptions) -> Prometheus {
        Self::start_with(options, &[], None).await
    }

    /// Like [`Prometheus::start`], and every series scraped by job `job` gets the target label
    /// `name="value"` of each `(job, name, value)` — how a fleet's Prometheus tells clusters
    /// apart (a `cluster` label).
    pub async fn start_labelled(
        options: PrometheusOptions,
        target_labels: &[(&str, &str, &str)],
    ) -> Prometheus {
        Self::start_with(options, target_labels, None).await
    }

    /// Like [`Prometheus::start`], also evaluating rule files and sending alerts to
    /// Alertmanagers.
    pub async fn start_alerting(
        options: PrometheusOptions,
        alerting: AlertingOptions,
    ) -> Prometheus {
        Self::start_with(options, &[], Some(alerting)).await
    }

    async fn start_with(
        options: PrometheusOptions,
        target_labels: &[(&str, &str, &str)],
        alerting: Option<AlertingOptions>,
    ) -> Prometheus {
        let binary = Self::binary();
        let dir = TempDir::new("prometheus");
        let config_path = dir.path().join("prometheus.yml");
        let mut config = config_yaml(&options, target_labels);
        if let Some(alerting) = &alerting {
            let interval = alerting.evaluation_interval.as_millis().max(1);
            config = config.replacen(
                "global:\n",
                &format!("global:\n  evaluation_interval: {interval}ms\n"),
                1,
            );
            config.push_str(&alerting_yaml(alerting));
        }
        std::fs::write(&config_path, config).expect("write prometheus.yml");
        let log_path = dir.path().join("prometheus.log");
        let log = std::fs::File::create(&log_path).expect("create prometheus.log");
        let port = free_port();
        let mut command = Command::new(binary);
        command
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log);
        if options.remote_write_receiver {
            command.arg("--web.enable-remote-write-receiver");
        }
        let child = command.spawn().expect("spawn prometheus");
        let mut prometheus = Prometheus {
            child,
            dir,
            base_url: format!("http://127.0.0.1:{port}"),
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
        };
        prometheus.wait_ready().await;
        prometheus
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.base_url
    }

    /// The remote-write receiver's URL.
    pub fn remote_write_url(&self) -> String {
        format!("{}/api/v1/write", self.base_url)
    }

    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// Evaluates an instant query now.
    pub async fn query(&self, promql: &str) -> Vec<Sample> {
        self.query_api(promql, None).await
    }

    /// Evaluates an instant query at `time_ms` (Unix milliseconds).
    pub async fn query_at(&self, promql: &str, time_ms: i64) -> Vec<Sample> {
        self.query_api(promql, Some(time_ms)).await
    }

    /// Repeats `promql` until `done` accepts the result or `timeout` passes; returns the last
    /// result either way, so the caller asserts with a useful message.
    pub async fn wait_for(
        &self,
        promql: &str,
        timeout: Duration,
        done: impl Fn(&[Sample]) -> bool,
    ) -> Vec<Sample> {
        let deadline = Instant::now() + timeout;
        loop {
            let result = self.query(promql).await;
            if done(&result) || Instant::now() >= deadline {
                return result;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the job's single target is scraped successfully (`up == 1`); panics with
    /// `context` and Prometheus' log otherwise.
    #[allow(dead_code)]
    pub async fn wait_up(&self, job: &str, timeout: Duration, context: &str) {
        let up = self
            .wait_for(&format!("up{{job=\"{job}\"}}"), timeout, |r| {
                r.len() == 1 && r[0].1 == 1.0
            })
            .await;
        assert_eq!(
            up.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
            [1.0],
            "the scrape of job {job} failed\n{context}\nprometheus log:\n{}",
            self.log()
        );
    }

    /// GETs another API endpoint (e.g. `/api/v1/metadata?metric=up`); returns its `data` after
    /// checking `status` is `success`.
    pub async fn api(&self, path_and_query: &str) -> serde_json::Value {
        let (status, body) = self.get(path_and_query).await;
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|error| {
            panic!(
                "GET {path_and_query}: HTTP {status}, body is not JSON ({error}): {}",
                lossy(&body)
            )
        });
        assert_eq!(
            json["status"], "success",
            "GET {path_and_query} failed: {json}"
        );
        json["data"].clone()
    }

    async fn query_api(&self, promql: &str, time_ms: Option<i64>) -> Vec<Sample> {
        let mut path = format!("/api/v1/query?query={}", percent_encode(promql));
        if let Some(ms) = time_ms {
            let _ = write!(
                path,
                "&time={}.{:03}",
                ms.div_euclid(1000),
                ms.rem_euclid(1000)
            );
        }
        let (status, body) = self.get(&path).await;
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|error| {
            panic!(
                "query {promql:?}: HTTP {status}, body is not JSON ({error}): {}",
                lossy(&body)
            )
        });
        assert_eq!(json["status"], "success", "query {promql:?} failed: {json}");
        assert_eq!(
            json["data"]["resultType"], "vector",
            "query {promql:?} is not a vector"
        );
        let results = json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        results
            .iter()
            .map(|result| {
                let labels = result["metric"]
                    .as_object()
                    .map(|metric| {
                        metric
                            .iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                let value = result["value"][1].as_str().unwrap_or_default();
                let value = value
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("query {promql:?}: bad value in {result}"));
                (labels, value)
            })
            .collect()
    }

    async fn get(&self, path_and_query: &str) -> (u16, Bytes) {
        let uri: hyper::Uri = format!("{}{path_and_query}", self.base_url)
            .parse()
            .unwrap_or_else(|error| panic!("bad URI for {path_and_query:?}: {error}"));
        let exchange = async {
            let response = self.client.get(uri).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>((status, body))
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(error)) => panic!("GET {path_and_query} failed: {error}\n{}", self.log()),
            Err(_) => panic!("GET {path_and_query} timed out\n{}", self.log()),
        }
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "prometheus exited during startup ({status}):\n{}",
                    self.log()
                );
            }
            let uri: hyper::Uri = format!("{}/-/ready", self.base_url)
                .parse()
                .expect("ready URI");
            let ready = tokio::time::timeout(Duration::from_secs(2), self.client.get(uri)).await;
            if matches!(ready, Ok(Ok(ref response)) if response.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready after {READY_TIMEOUT:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        // The directory (config, data, log) goes with `dir`, or is kept when the test failed.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config_yaml(options: &PrometheusOptions, target_labels: &[(&str, &str, &str)]) -> String {
    let interval = format!("{}ms", options.scrape_interval.as_millis().max(1));
    let mut yaml = format!(
        "global:\n  scrape_interval: {interval}\n  scrape_timeout: {interval}\n\
         scrape_configs:{}\n",
        if options.targets.is_empty() {
            " []"
        } else {
            ""
        }
    );
    for target in &options.targets {
        // JSON strings are valid YAML scalars: no quoting surprises.
        let _ = write!(
            yaml,
            "  - job_name: {}\n    metrics_path: {}\n    static_configs:\n      - targets: [{}]\n",
            serde_json::Value::from(target.job.as_str()),
            serde_json::Value::from(target.metrics_path.as_str()),
            serde_json::Value::from(target.address.as_str()),
        );
        let labels: Vec<String> = target_labels
            .iter()
            .filter(|(job, _, _)| *job == target.job)
            .map(|(_, name, value)| format!("{name}: {}", serde_json::Value::from(*value)))
            .collect();
        if !labels.is_empty() {
            let _ = writeln!(yaml, "        labels: {{{}}}", labels.join(", "));
        }
        yaml.push_str(&target.settings);
    }
    yaml
}

fn alerting_yaml(alerting: &AlertingOptions) -> String {
    let json = |s: &str| serde_json::Value::from(s).to_string();
    let files: Vec<String> = alerting
        .rule_files
        .iter()
        .map(|p| json(&p.to_string_lossy()))
        .collect();
    let managers: Vec<String> = alerting.alertmanagers.iter().map(|a| json(a)).collect();
    format!(
        "rule_files: [{}]\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{}]\n",
        files.join(", "),
        managers.join(", ")
    )
}

/// A loopback port that was free a moment ago (for a server that binds it right after).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
