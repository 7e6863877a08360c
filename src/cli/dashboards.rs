//! `backupscope dashboards`: the Grafana dashboards, generated from the metric declarations.

use anyhow::{Context, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DashboardsArgs {
    /// Write every dashboard as `<name>.json` into this directory (created if missing), e.g.
    /// a directory Grafana provisions dashboards from.
    #[arg(long, value_name = "DIR", conflicts_with = "dashboard")]
    pub out: Option<PathBuf>,
    /// Print one dashboard's JSON on stdout: backup-locations, backup-operation-status,
    /// addon-status or backup-health.
    #[arg(long, value_name = "NAME")]
    pub dashboard: Option<String>,
}

/// Runs the subcommand; returns what to print on stdout.
pub fn run(args: &DashboardsArgs) -> anyhow::Result<String> {
    let all = crate::dashboards::all().context("generate the dashboards")?;
    match (&args.out, &args.dashboard) {
        (Some(dir), _) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("create the directory {}", dir.display()))?;
            let mut written = String::new();
            for g in &all {
                let path = dir.join(format!("{}.json", g.name));
                std::fs::write(&path, crate::dashboards::render(&g.dashboard))
                    .with_context(|| format!("write {}", path.display()))?;
                written.push_str(&format!("wrote {}\n", path.display()));
            }
            Ok(written)
        }
        (None, Some(name)) => match all.iter().find(|g| g.name == name) {
            Some(g) => Ok(crate::dashboards::render(&g.dashboard)),
            None => bail!(
                "no dashboard {name:?}; the dashboards are: {}",
                crate::dashboards::names().join(", ")
            ),
        },
        (None, None) => bail!(
            "say where the dashboards go: --out DIR (all of them) or --dashboard NAME (one, on stdout; one of {})",
            crate::dashboards::names().join(", ")
        ),
    }
}
