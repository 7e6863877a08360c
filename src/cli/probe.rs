//! `backupscope probe [VAULT]`: backupscope's own check of each vault's bucket (what Velero's
//! validation does, classified), and the vault options `scan`, `describe --probe` and `serve`
//! share.

use super::output::{self, Format};
use super::{Loaded, SourceArgs};
use crate::inventory::Inventory;
use crate::model::{Engine, Vault};
use crate::report::probe::ProbeReport;
use crate::vault::client::{Access, Selector, parse_override};
use crate::vault::http::Transport;
use crate::vault::periodic::{self, Cadence};
use crate::vault::{Board, VaultKey};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How to reach the vaults' buckets. Credentials come only from the environment (AWS_*,
/// ALIBABA_CLOUD_*, GOOGLE_*, AZURE_* variables) or from files named here — never from the
/// cluster's Secrets.
#[derive(Debug, Clone, Args)]
pub struct VaultArgs {
    /// Read every vault from the local directory DIR/<bucket> (a copy of the buckets, or the
    /// bundled examples/buckets) instead of its object store.
    #[arg(long, value_name = "DIR")]
    pub vault_root: Option<PathBuf>,
    /// Where one vault's bucket answers, [NAMESPACE/]VAULT=URL (repeatable): an S3-compatible
    /// endpoint (path-style, like Velero's s3Url with s3ForcePathStyle, e.g. MinIO) or
    /// file:///DIR for a local copy of the bucket.
    #[arg(long, value_name = "[NS/]VAULT=URL", value_parser = parse_override)]
    pub vault_endpoint: Vec<(Selector, String)>,
    /// Credentials file for one vault, [NAMESPACE/]VAULT=FILE (repeatable), in the format of
    /// Velero's cloud-credentials Secret: AWS shared credentials ([default]
    /// aws_access_key_id=…), ALIBABA_CLOUD_ACCESS_KEY_ID=… lines, AZURE_*=… lines, or a GCP
    /// service-account JSON key. Never printed.
    #[arg(long, value_name = "[NS/]VAULT=FILE", value_parser = parse_override)]
    pub vault_credentials: Vec<(Selector, String)>,
    /// Give up on a bucket after this long (the whole probe of one vault).
    #[arg(long, default_value = "10s", value_parser = super::serve::parse_duration, value_name = "DURATION")]
    pub probe_timeout: Duration,
    /// Also write a canary object under <prefix>/metadata/, read it back and delete it
    /// (needs write permission; Velero never reads that folder).
    #[arg(long)]
    pub probe_write: bool,
}

impl VaultArgs {
    pub fn access(&self) -> anyhow::Result<Access> {
        let transport = Transport::new().context("cannot load the system's root certificates")?;
        Ok(Access {
            root: self.vault_root.clone(),
            endpoints: self.vault_endpoint.clone(),
            credentials: self
                .vault_credentials
                .iter()
                .map(|(s, f)| (s.clone(), PathBuf::from(f)))
                .collect(),
            timeout: self.probe_timeout,
            transport: Arc::new(transport),
        })
    }
}

/// Which vaults a `probe` or `scan` looks at.
#[derive(Debug, Clone, Args)]
pub struct Which {
    /// The vault; all when omitted.
    pub name: Option<String>,
    /// Only vaults in this namespace.
    #[arg(short, long)]
    pub namespace: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProbeCmdArgs {
    #[command(flatten)]
    pub which: Which,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub vault: VaultArgs,
    /// Vaults probed at once.
    #[arg(long, default_value_t = 16)]
    pub probe_concurrency: usize,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// The vaults `which` names (all when it names none), or an error naming the known ones.
pub fn select_which(loaded: &Loaded, which: &Which) -> anyhow::Result<Vec<Vault>> {
    select(loaded, which.name.as_deref(), which.namespace.as_deref())
}

/// The vaults a command names (all when `name` is `None`), or an error naming the known ones.
pub fn select(
    loaded: &Loaded,
    name: Option<&str>,
    namespace: Option<&str>,
) -> anyhow::Result<Vec<Vault>> {
    let center = loaded.center();
    let all: Vec<&Vault> = center.vaults().collect();
    let chosen: Vec<Vault> = all
        .iter()
        .filter(|v| {
            name.is_none_or(|n| v.name == n) && namespace.is_none_or(|ns| v.namespace == ns)
        })
        .map(|v| (*v).clone())
        .collect();
    if chosen.is_empty()
        && let Some(n) = name
    {
        let known: Vec<String> = all.iter().take(5).map(|v| output::cell(&v.name)).collect();
        anyhow::bail!(
            "backup location {n:?} not found{}",
            if known.is_empty() {
                String::new()
            } else {
                format!("; known: {}", known.join(", "))
            }
        );
    }
    Ok(chosen)
}

/// Probes the vaults once; results in namespace/name order.
pub async fn probe_all(
    vaults: &[Vault],
    args: &VaultArgs,
    concurrency: usize,
) -> anyhow::Result<Vec<crate::vault::ProbeResult>> {
    let access = args.access()?;
    let board = Board::new();
    periodic::probe_round(vaults, &access, &board, concurrency, args.probe_write).await;
    Ok(board.read().probes.values().cloned().collect())
}

pub async fn run(args: ProbeCmdArgs) -> anyhow::Result<String> {
    let loaded = super::load(&args.source).await?;
    let vaults = select_which(&loaded, &args.which)?;
    let probes = probe_all(&vaults, &args.vault, args.probe_concurrency).await?;
    ProbeReport { probes }.render(args.output, output::colour_enabled())
}

/// `describe backuplocation --probe`: probes the described vault.
pub async fn probe_one(
    vault: &VaultKey,
    loaded: &Loaded,
    args: &VaultArgs,
) -> anyhow::Result<Option<crate::vault::ProbeResult>> {
    let vaults = select(loaded, Some(&vault.name), Some(&vault.namespace))?;
    Ok(probe_all(&vaults, args, 1).await?.into_iter().next())
}

/// The probe and scan loops of `serve` (off unless --probe-interval is given).
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Probe every vault's bucket this often (off when not given), e.g. 5m.
    #[arg(long, value_parser = super::serve::parse_duration, value_name = "DURATION")]
    pub probe_interval: Option<Duration>,
    /// Vaults probed at once; a hanging bucket holds one slot for at most --probe-timeout.
    #[arg(long, default_value_t = 64)]
    pub probe_concurrency: usize,
    /// Scan every vault's backups against the cluster this often (needs --probe-interval;
    /// off when not given), e.g. 1h.
    #[arg(long, value_parser = super::serve::parse_duration, value_name = "DURATION", requires = "probe_interval")]
    pub scan_interval: Option<Duration>,
    /// Give up on one vault's scan after this long.
    #[arg(long, default_value = "5m", value_parser = super::serve::parse_duration, value_name = "DURATION")]
    pub scan_timeout: Duration,
    #[command(flatten)]
    pub vault: VaultArgs,
}

impl ProbeArgs {
    /// Starts the loops when asked to; the board is what the collector reads.
    pub fn start(
        &self,
        inventory: Arc<RwLock<Inventory>>,
        engine: Option<Engine>,
        tasks: &mut Vec<tokio::task::JoinHandle<()>>,
    ) -> anyhow::Result<Option<Arc<Board>>> {
        let Some(every) = self.probe_interval else {
            return Ok(None);
        };
        let board = Arc::new(Board::new());
        let cadence = Cadence {
            probe_interval: every,
            scan_interval: self.scan_interval,
            scan_timeout: self.scan_timeout,
            concurrency: self.probe_concurrency,
            write: self.vault.probe_write,
        };
        tasks.extend(periodic::spawn(
            inventory,
            engine,
            self.vault.access()?,
            cadence,
            board.clone(),
        ));
        Ok(Some(board))
    }
}
