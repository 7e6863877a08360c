//! `backupscope rules`: the alert rules generated from the metric declarations, as a plain
//! Prometheus rule file or as a PrometheusRule manifest. rules/ holds the defaults' output.

use crate::alerting::rules::{self, Pending, Thresholds};
use crate::model::cadence::go_duration_seconds;
use clap::Args;

/// A duration flag such as `6h`, `15m`, `1h30m` or `0s`, in whole seconds.
fn duration(raw: &str) -> Result<u64, String> {
    // Go durations are positive; `0s` turns a `for:` off.
    if matches!(raw, "0" | "0s" | "0m" | "0h") {
        return Ok(0);
    }
    let seconds = go_duration_seconds(raw).map_err(|e| e.to_string())?;
    if !seconds.is_finite() || seconds < 0.0 || seconds.fract() != 0.0 {
        return Err(format!("{raw:?} is not a whole number of seconds"));
    }
    Ok(seconds as u64)
}

fn factor(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 1.0 => Ok(v),
        _ => Err(format!(
            "{raw:?} is not a factor of 1 or more (a schedule cannot be late before its interval)"
        )),
    }
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Print a prometheus-operator PrometheusRule (monitoring.coreos.com/v1) instead of a
    /// plain rule file.
    #[arg(long)]
    pub prometheusrule: bool,
    /// A backup task unfinished for longer than this is stuck (BackupCenterBackupStuck).
    #[arg(long, value_parser = duration, default_value = "6h", value_name = "DURATION")]
    pub stuck_after: u64,
    /// A schedule is missed when its last success is older than this many of its own
    /// intervals (BackupCenterScheduleMissed).
    #[arg(long, value_parser = factor, default_value = "2", value_name = "FACTOR")]
    pub rpo_factor: f64,
    /// Window in which any restart of a component raises BackupCenterComponentRestarting.
    #[arg(long, value_parser = duration, default_value = "1h", value_name = "DURATION")]
    pub restart_window: u64,
    /// Restarts of a controller within --crashloop-window that mean it is crash-looping.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub crashloop_restarts: u32,
    #[arg(long, value_parser = duration, default_value = "30m", value_name = "DURATION")]
    pub crashloop_window: u64,
    /// `for:` of BackupCenterBackupFailed and BackupCenterBackupPartiallyFailed.
    #[arg(long, value_parser = duration, default_value = "0s", value_name = "DURATION")]
    pub failed_for: u64,
    /// `for:` of BackupCenterVaultUnavailable: long enough that one failed validation of a
    /// flapping vault does not page.
    #[arg(long, value_parser = duration, default_value = "15m", value_name = "DURATION")]
    pub vault_for: u64,
    /// `for:` of BackupCenterVaultProbeFailing (backupscope's own probe of the bucket).
    #[arg(long, value_parser = duration, default_value = "15m", value_name = "DURATION")]
    pub probe_for: u64,
    /// `for:` of BackupCenterBackupStuck.
    #[arg(long, value_parser = duration, default_value = "5m", value_name = "DURATION")]
    pub stuck_for: u64,
    /// `for:` of BackupCenterScheduleMissed.
    #[arg(long, value_parser = duration, default_value = "15m", value_name = "DURATION")]
    pub schedule_for: u64,
    /// `for:` of BackupCenterComponentUnhealthy.
    #[arg(long, value_parser = duration, default_value = "10m", value_name = "DURATION")]
    pub component_for: u64,
    /// `for:` of BackupCenterComponentRestarting.
    #[arg(long, value_parser = duration, default_value = "0s", value_name = "DURATION")]
    pub restarting_for: u64,
    /// `for:` of BackupCenterControllerCrashLooping.
    #[arg(long, value_parser = duration, default_value = "5m", value_name = "DURATION")]
    pub crashloop_for: u64,
    /// `for:` of BackupscopeSourceDown.
    #[arg(long, value_parser = duration, default_value = "5m", value_name = "DURATION")]
    pub source_for: u64,
    /// Where docs/runbook.md is published; each alert's runbook_url is this plus
    /// `#<alert name in lower case>`.
    #[arg(long, default_value = "docs/runbook.md", value_name = "URL")]
    pub runbook_url: String,
}

impl RulesArgs {
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            stuck_after: self.stuck_after,
            rpo_factor: self.rpo_factor,
            restart_window: self.restart_window,
            crashloop_restarts: self.crashloop_restarts,
            crashloop_window: self.crashloop_window,
            pending: Pending {
                backup_failed: self.failed_for,
                vault_unavailable: self.vault_for,
                vault_probe_failing: self.probe_for,
                backup_stuck: self.stuck_for,
                schedule_missed: self.schedule_for,
                component_unhealthy: self.component_for,
                component_restarting: self.restarting_for,
                controller_crashlooping: self.crashloop_for,
                source_down: self.source_for,
            },
            runbook_url: self.runbook_url.clone(),
        }
    }
}

pub fn run(args: &RulesArgs) -> anyhow::Result<String> {
    let t = args.thresholds();
    if args.prometheusrule {
        rules::prometheus_rule_yaml(&t)
    } else {
        rules::plain_yaml(&t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        rules: RulesArgs,
    }

    #[test]
    fn defaults_are_the_generator_defaults() {
        let cli = Cli::try_parse_from(["rules"]).unwrap();
        assert_eq!(cli.rules.thresholds(), Thresholds::default());
    }

    #[test]
    fn bad_thresholds_are_refused_with_the_reason() {
        let err = Cli::try_parse_from(["rules", "--stuck-after", "six hours"])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("--stuck-after"), "{err}");
        let err = Cli::try_parse_from(["rules", "--rpo-factor", "0.5"])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("factor of 1 or more"), "{err}");
        assert!(Cli::try_parse_from(["rules", "--vault-for", "1.5s"]).is_err());
        let cli = Cli::try_parse_from(["rules", "--stuck-after", "1h30m"]).unwrap();
        assert_eq!(cli.rules.stuck_after, 5400);
        let cli = Cli::try_parse_from(["rules", "--vault-for", "0s"]).unwrap();
        assert_eq!(cli.rules.vault_for, 0);
    }
}
