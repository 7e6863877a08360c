//! `backupscope serve`: keeps the inventory current (watching a live cluster, or a snapshot
//! loaded once) and serves metrics; optionally pushes them with Prometheus remote write.

use super::SourceArgs;
use crate::center::BackupCenter;
use crate::inventory::Inventory;
use crate::metrics::collector::{CollectOptions, Collector};
use crate::metrics::families;
use crate::metrics::remote_write::{RemoteWriteConfig, RemoteWriteSink, RemoteWriter};
use crate::model::Timestamp;
use crate::source::health::SourceHealth;
use crate::source::kube as live;
use crate::web::{self, AppState, Limits, TlsFiles};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Address to listen on (port 0 picks a free port; the address is printed on start).
    #[arg(long, default_value = "0.0.0.0:9731")]
    pub listen: SocketAddr,
    /// Serve HTTPS with this PEM certificate (chain); needs --tls-key.
    #[arg(long, requires = "tls_key", value_name = "PATH")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "PATH")]
    pub tls_key: Option<PathBuf>,
    /// Also push every metric with Prometheus remote write 1.0 to this URL
    /// (e.g. http://prometheus:9090/api/v1/write).
    #[arg(long, value_name = "URL")]
    pub remote_write_url: Option<String>,
    /// How often to push (1s to 24h).
    #[arg(long, default_value = "30s", value_parser = parse_interval, value_name = "DURATION")]
    pub remote_write_interval: Duration,
    /// Extra header for remote write requests, NAME=VALUE (repeatable), e.g. X-Scope-OrgID=team.
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_header)]
    pub remote_write_header: Vec<(String, String)>,
    /// File with a bearer token for remote write (read once; never logged).
    #[arg(long, value_name = "PATH")]
    pub remote_write_bearer_token_file: Option<PathBuf>,
    /// Do not export this per-object family (repeatable), to cut series cost.
    #[arg(long, value_name = "FAMILY", value_parser = parse_optional_family)]
    pub disable_metric: Vec<String>,
    #[command(flatten)]
    pub alerting: Box<crate::alerting::AlertingArgs>,
    #[command(flatten)]
    pub probe: super::probe::ProbeArgs,
    #[command(flatten)]
    pub access: Box<web::AccessArgs>,
}

/// A push more often than every second would be a busy loop; less often than daily, no
/// monitoring at all.
fn parse_interval(s: &str) -> Result<Duration, String> {
    super::duration::parse_within(s, Duration::from_secs(1), Duration::from_secs(24 * 3600))
}

/// Probe and scan intervals and timeouts: checked like every other duration, so `0.1ns` or
/// `99999999999999999999h` is a usage error, never a busy loop or a panic.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    super::duration::parse_within(
        s,
        Duration::from_millis(10),
        Duration::from_secs(7 * 24 * 3600),
    )
}

fn parse_header(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))
}

fn parse_optional_family(s: &str) -> Result<String, String> {
    if families::optional().any(|f| f.name == s) {
        Ok(s.to_string())
    } else {
        let names: Vec<&str> = families::optional().map(|f| f.name).collect();
        Err(format!(
            "not a family that can be turned off; one of: {}",
            names.join(", ")
        ))
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<String> {
    let inventory = Arc::new(RwLock::new(Inventory::new()));
    let mut health = None;
    let mut tasks = Vec::new();
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: args.access.tls_client_ca.clone(),
        }),
        _ => None,
    };
    if let Some(files) = &tls {
        files.acceptor()?; // fail at start, not at the first connection
    }
    let token = args
        .access
        .auth_token_file
        .as_deref()
        .map(web::Token::from_file)
        .transpose()?;
    // The doctor's version checks read it; a live API server is asked once it answers.
    let kubernetes_version: Arc<OnceLock<String>> = Arc::default();
    let client = match &args.source.snapshot {
        Some(path) => {
            if let Some(v) = super::doctor::snapshot_version(path) {
                let _ = kubernetes_version.set(v);
            }
            let loaded = super::load(&args.source).await?;
            if let Ok(mut inv) = inventory.write() {
                *inv = loaded.inventory;
            }
            None
        }
        // A kubeconfig that cannot be read is the user's to fix: fail now. An API server
        // that does not answer is not: that is retried once the port is bound.
        None => Some(live::client(&args.source.kube).await?),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Tests and wrappers read this line to find a port chosen with :0. A stdout that cannot
    // take it (closed, /dev/full) must not stop the exporter.
    let _ = writeln!(
        std::io::stdout(),
        "backupscope listening on {scheme}://{addr}"
    )
    .and_then(|()| std::io::stdout().flush());
    if let Some(client) = client {
        tasks.extend(crate::alerting::spawn(
            &args.alerting,
            &client,
            inventory.clone(),
            args.source.engine.engine(),
        )?);
        tasks.push(tokio::spawn(ask_version(
            client.clone(),
            kubernetes_version.clone(),
        )));
        let h = Arc::new(SourceHealth::new());
        tasks.push(tokio::spawn(live::follow(
            client,
            args.source.kube.clone(),
            inventory.clone(),
            h.clone(),
        )));
        health = Some(h);
    }
    let vault_board =
        args.probe
            .start(inventory.clone(), args.source.engine.engine(), &mut tasks)?;
    let collector = Arc::new(
        Collector::new(CollectOptions {
            disabled: args.disable_metric.iter().cloned().collect(),
        })
        .with_vault_board(vault_board),
    );
    let mut state = AppState::new(
        inventory,
        health,
        collector,
        args.source.engine.engine(),
        args.source.now,
    );
    state.kubernetes_version = kubernetes_version;
    if let Some(url) = &args.remote_write_url {
        let mut config = RemoteWriteConfig::new(url.clone());
        config.headers = args.remote_write_header.clone();
        config.bearer_token_file = args.remote_write_bearer_token_file.clone();
        let writer = RemoteWriter::new(config).context("remote write")?;
        tasks.push(tokio::spawn(push_loop(
            state.clone(),
            writer,
            args.remote_write_interval,
        )));
    }
    web::serve(
        listener,
        state,
        tls,
        token,
        Limits::default(),
        shutdown_signal(),
    )
    .await?;
    for t in tasks {
        t.abort();
    }
    Ok(String::new())
}

/// Asks the API server for its version until it answers (every 30 s), for the doctor.
async fn ask_version(client: kube::Client, into: Arc<OnceLock<String>>) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        match client.apiserver_version().await {
            Ok(v) => {
                let _ = into.set(v.git_version);
                return;
            }
            Err(error) => tracing::debug!(error = %error, "asking the API server's version failed"),
        }
    }
}

async fn push_loop(state: AppState, mut writer: RemoteWriter, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let series = {
            let Ok(inventory) = state.inventory.read() else {
                return;
            };
            let now = state.now.unwrap_or_else(Timestamp::now);
            let center = BackupCenter::for_engine(&inventory, now, state.engine);
            let mut sink = RemoteWriteSink::new();
            state
                .collector
                .collect(&center, state.health.as_deref(), &mut sink);
            sink.into_series()
        };
        let now_ms = Timestamp::now().as_millisecond();
        match writer.push(series, now_ms).await {
            Ok(outcome) => tracing::debug!(?outcome, "remote write pushed"),
            Err(error) => tracing::warn!(error = %error, "remote write failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
