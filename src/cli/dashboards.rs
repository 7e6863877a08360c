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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(out: Option<PathBuf>, dashboard: Option<&str>) -> DashboardsArgs {
        DashboardsArgs {
            out,
            dashboard: dashboard.map(str::to_string),
        }
    }

    #[test]
    fn one_dashboard_on_stdout_or_an_error_naming_the_choices() {
        let json = run(&args(None, Some("addon-status"))).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["title"], "Addon Status");

        let unknown = run(&args(None, Some("addons"))).unwrap_err().to_string();
        assert_eq!(
            unknown,
            "no dashboard \"addons\"; the dashboards are: backup-locations, backup-operation-status, addon-status, backup-health"
        );
        let neither = run(&args(None, None)).unwrap_err().to_string();
        assert!(
            neither.starts_with("say where the dashboards go: --out DIR"),
            "{neither}"
        );
    }

    #[test]
    fn out_writes_every_dashboard_and_says_where() {
        let dir =
            std::env::temp_dir().join(format!("backupscope-dashboards-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let said = run(&args(Some(dir.join("nested")), None)).unwrap();
        assert_eq!(said.lines().count(), 4, "{said}");
        for name in crate::dashboards::names() {
            let file = dir.join("nested").join(format!("{name}.json"));
            let text = std::fs::read_to_string(&file).unwrap();
            assert_eq!(text, run(&args(None, Some(name))).unwrap(), "{name}");
        }
        // A file where the directory should be: a clear error, not a panic.
        let blocked = dir.join("file");
        std::fs::write(&blocked, "x").unwrap();
        let error = format!("{:#}", run(&args(Some(blocked.clone()), None)).unwrap_err());
        assert!(
            error.starts_with(&format!("create the directory {}", blocked.display())),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
