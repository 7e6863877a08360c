//! `backupscope scan [VAULT]`: what each vault's bucket holds under `backups/`, held against
//! the cluster's tasks on that vault.

use super::output::{self, Format};
use super::probe::{VaultArgs, Which, select_which};
use super::{Loaded, SourceArgs};
use crate::model::Vault;
use crate::report::probe::ScanReport;
use crate::vault::client::{self, VaultKey};
use crate::vault::scan::{ClusterTask, ScanResult, scan};
use clap::Args;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub which: Which,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub vault: VaultArgs,
    /// Give up on one vault's scan after this long.
    #[arg(long, default_value = "5m", value_parser = super::serve::parse_duration, value_name = "DURATION")]
    pub scan_timeout: Duration,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

pub async fn run(args: ScanArgs) -> anyhow::Result<String> {
    let loaded = super::load(&args.source).await?;
    let vaults = select_which(&loaded, &args.which)?;
    let scans = scan_all(&loaded, &vaults, &args.vault, args.scan_timeout).await?;
    ScanReport { scans }.render(args.output, output::colour_enabled())
}

/// Scans the vaults one after the other (each lists a whole bucket).
pub async fn scan_all(
    loaded: &Loaded,
    vaults: &[Vault],
    args: &VaultArgs,
    timeout: Duration,
) -> anyhow::Result<Vec<ScanResult>> {
    let access = args.access()?;
    let center = loaded.center();
    let mut scans = Vec::new();
    for v in vaults {
        let key = VaultKey::of(v);
        let tasks = ClusterTask::on_vault(&center, v);
        let result = match client::open(v, &access) {
            Ok(store) => scan(&key, &store, &tasks, timeout).await,
            Err(e) => ScanResult::not_opened(&key, tasks.len(), &e),
        };
        scans.push(result);
    }
    Ok(scans)
}
