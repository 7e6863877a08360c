//! The alert rules (names are the API, DESIGN.md §3), generated from the metric declarations:
//! every metric and label name in an expression or a template comes from a [`Declared`]
//! family, so a renamed or dropped label fails generation instead of silently never firing.
//!
//! `backupscope rules` prints them as a plain Prometheus rule file, `--prometheusrule` as a
//! `monitoring.coreos.com/v1` PrometheusRule; both are committed under `rules/`.

use crate::center::{Graded, Severity};
use crate::dialect::components::COMPONENTS;
use crate::metrics::contract::{CLUSTER_LABEL, ContractError, Declared, Matcher};
use crate::metrics::families as f;
use crate::model::{ComponentStatus, Outcome, TaskPhase, VaultPhase, WorkloadKind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The thresholds a user tunes; every duration is in whole seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// A backup task unfinished for longer than this is stuck.
    pub stuck_after: u64,
    /// A schedule is missed when its last success is older than this many of its own intervals.
    pub rpo_factor: f64,
    /// Window over which a component container's restarts are counted.
    pub restart_window: u64,
    /// Restarts of a controller within `crashloop_window` that make it crash-looping.
    pub crashloop_restarts: u32,
    pub crashloop_window: u64,
    /// `for:` of each alert.
    pub pending: Pending,
    /// Where docs/runbook.md is published; each alert links `<runbook_url>#<alert, lower case>`.
    pub runbook_url: String,
}

/// How long each condition must hold before its alert fires (`for:`).
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub backup_failed: u64,
    pub vault_unavailable: u64,
    pub vault_probe_failing: u64,
    pub backup_stuck: u64,
    pub schedule_missed: u64,
    pub component_unhealthy: u64,
    pub component_restarting: u64,
    pub controller_crashlooping: u64,
    pub source_down: u64,
}

impl Default for Thresholds {
    /// What a user would pick: backups take hours, so a task is stuck after 6 h; a schedule
    /// is missed after two of its own intervals (a weekly one after two weeks, not 25 h); a
    /// vault must stay Unavailable for 15 min, many validations (Velero validates every
    /// minute), before it pages.
    fn default() -> Self {
        Thresholds {
            stuck_after: 6 * HOUR,
            rpo_factor: 2.0,
            restart_window: HOUR,
            crashloop_restarts: 3,
            crashloop_window: 30 * MINUTE,
            pending: Pending {
                backup_failed: 0,
                vault_unavailable: 15 * MINUTE,
                vault_probe_failing: 15 * MINUTE,
                backup_stuck: 5 * MINUTE,
                schedule_missed: 15 * MINUTE,
                component_unhealthy: 10 * MINUTE,
                component_restarting: 0,
                controller_crashlooping: 5 * MINUTE,
                source_down: 5 * MINUTE,
            },
            runbook_url: "docs/runbook.md".to_string(),
        }
    }
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

/// One alerting rule as Prometheus reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRule {
    pub alert: &'static str,
    pub expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    pub labels: BTreeMap<&'static str, String>,
    pub annotations: BTreeMap<&'static str, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleGroup {
    pub name: &'static str,
    pub rules: Vec<AlertRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleFile {
    pub groups: Vec<RuleGroup>,
}

/// Every alert name the rules define, in file order (the runbook has a section for each).
pub const ALERTS: &[&str] = &[
    "BackupCenterBackupFailed",
    "BackupCenterBackupPartiallyFailed",
    "BackupCenterVaultUnavailable",
    "BackupCenterVaultProbeFailing",
    "BackupCenterBackupStuck",
    "BackupCenterScheduleMissed",
    "BackupCenterComponentUnhealthy",
    "BackupCenterComponentRestarting",
    "BackupCenterControllerCrashLooping",
    "BackupscopeSourceDown",
];

/// `{{ $labels.<label> }}` for a label the family declares.
fn show<const N: usize>(family: &Declared<N>, label: &str) -> Result<String, ContractError> {
    Ok(format!("{{{{ $labels.{} }}}}", family.label(label)?.name))
}

/// `namespace, backuplocation` for `on (...)` / `group_left (...)`, checked.
fn labels<const N: usize>(family: &Declared<N>, names: &[&str]) -> Result<String, ContractError> {
    let checked: Result<Vec<&str>, _> = names
        .iter()
        .map(|n| family.label(n).map(|l| l.name))
        .collect();
    Ok(checked?.join(", "))
}

/// `cluster, namespace, backuplocation` for `on (...)`: the object's labels, checked, after the
/// fleet's cluster label. Rules evaluated centrally (Thanos Ruler, Mimir ruler, vmalert) see
/// the same vault name in several clusters; without `cluster` those joins turn many-to-many and
/// the rule fails. On one cluster neither side has the label, and empty matches empty.
fn on<const N: usize>(family: &Declared<N>, names: &[&str]) -> Result<String, ContractError> {
    Ok(format!("{CLUSTER_LABEL}, {}", labels(family, names)?))
}

/// A regular expression that matches exactly these label values.
fn any_of<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    values.into_iter().collect::<Vec<_>>().join("|")
}

/// `6h`, `15m`, `1h30m`, `0s`: a Prometheus duration for whole seconds.
pub fn prom_duration(seconds: u64) -> String {
    if seconds == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = seconds;
    for (unit, size) in [("d", 24 * HOUR), ("h", HOUR), ("m", MINUTE), ("s", 1)] {
        if rest >= size {
            let _ = write!(out, "{}{unit}", rest / size);
            rest %= size;
        }
    }
    out
}

/// A number as PromQL and templates print it: `2`, `1.5`.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

struct Builder<'t> {
    t: &'t Thresholds,
}

impl Builder<'_> {
    fn rule(
        &self,
        alert: &'static str,
        expr: String,
        pending: u64,
        severity: Severity,
        summary: String,
        description: String,
    ) -> AlertRule {
        let mut labels = BTreeMap::new();
        labels.insert("severity", severity.as_str().to_string());
        let mut annotations = BTreeMap::new();
        annotations.insert("summary", summary);
        annotations.insert("description", description);
        annotations.insert(
            "runbook_url",
            format!("{}#{}", self.t.runbook_url, alert.to_lowercase()),
        );
        AlertRule {
            alert,
            expr,
            pending: (pending > 0).then(|| prom_duration(pending)),
            labels,
            annotations,
        }
    }

    /// The task alerts: one per failed task, named after the outcome.
    fn failed(&self, outcome: Outcome, alert: &'static str) -> Result<AlertRule, ContractError> {
        let fam = &f::BACKUP_FAILED_INFO;
        let phases = any_of(
            TaskPhase::ALL
                .iter()
                .filter(|p| p.outcome() == outcome)
                .map(|p| p.as_str()),
        );
        let (ns, backup, vault, exists, schedule, phase, reason) = (
            show(fam, "namespace")?,
            show(fam, "backup")?,
            show(fam, "backuplocation")?,
            fam.label("backuplocation_exists")?.name,
            fam.label("from_schedule")?.name,
            show(fam, "phase")?,
            show(fam, "reason")?,
        );
        let verb = match outcome {
            Outcome::PartiallyFailed => "partially failed",
            _ => "failed",
        };
        Ok(self.rule(
            alert,
            format!("{} == 1", fam.select(&[Matcher::re("phase", phases)])?),
            self.t.pending.backup_failed,
            outcome.severity(),
            format!("Backup task {ns}/{backup} {verb} ({reason})"),
            format!(
                "Backup task {backup} in namespace {ns} ended {phase}, reason class {reason}, \
                 on vault {vault}{{{{ if eq $labels.{exists} \"false\" }}}} (which does not exist \
                 in {ns}){{{{ end }}}}, {{{{ with $labels.{schedule} }}}}run by schedule \
                 {{{{ . }}}}{{{{ else }}}}a manual backup{{{{ end }}}}. The failure message: \
                 backupscope describe backup {backup} -n {ns}"
            ),
        ))
    }

    fn vault_unavailable(&self) -> Result<AlertRule, ContractError> {
        let phase = &f::BACKUPLOCATION_PHASE;
        let info = &f::BACKUPLOCATION_INFO;
        let expr = format!(
            "({} == 1) * on ({}) group_left ({}) {}",
            phase.select(&[Matcher::eq("phase", VaultPhase::Unavailable.as_str())])?,
            on(phase, &["namespace", "backuplocation"])?,
            labels(info, &["provider", "bucket", "prefix"])?,
            info.select(&[])?
        );
        let (ns, vault, bucket, provider) = (
            show(phase, "namespace")?,
            show(phase, "backuplocation")?,
            show(info, "bucket")?,
            show(info, "provider")?,
        );
        Ok(self.rule(
            "BackupCenterVaultUnavailable",
            expr,
            self.t.pending.vault_unavailable,
            VaultPhase::Unavailable.severity(),
            format!("Backup vault {ns}/{vault} is Unavailable"),
            format!(
                "The backup center cannot use vault {vault} in namespace {ns} (bucket {bucket}, \
                 provider {provider}): every backup and restore on it fails until it is \
                 Available again. The validation message: backupscope describe backuplocation \
                 {vault} -n {ns}"
            ),
        ))
    }

    /// backupscope's own probe of the bucket fails (it runs only with `serve --probe-interval`),
    /// named with the failure class and the provider's code.
    fn vault_probe_failing(&self) -> Result<AlertRule, ContractError> {
        let success = &f::PROBE_SUCCESS;
        let error = &f::PROBE_ERROR_INFO;
        let expr = format!(
            "({} == 0) * on ({}) group_left ({}) {}",
            success.select(&[])?,
            on(success, &["namespace", "backuplocation"])?,
            labels(error, &["reason", "code"])?,
            error.select(&[])?
        );
        let (ns, vault, reason, code) = (
            show(success, "namespace")?,
            show(success, "backuplocation")?,
            show(error, "reason")?,
            show(error, "code")?,
        );
        Ok(self.rule(
            "BackupCenterVaultProbeFailing",
            expr,
            self.t.pending.vault_probe_failing,
            Severity::Critical,
            format!("The bucket of vault {ns}/{vault} fails backupscope's probe ({reason})"),
            format!(
                "backupscope cannot list the bucket of vault {vault} in namespace {ns} the way \
                 Velero validates it: {reason} (provider code {code}). Backups to it will fail \
                 even while the backup center still says Available. The probe's detail: \
                 backupscope probe {vault} -n {ns}"
            ),
        ))
    }

    fn stuck(&self) -> Result<AlertRule, ContractError> {
        let fam = &f::BACKUP_START;
        let (ns, backup, vault, phase, schedule) = (
            show(fam, "namespace")?,
            show(fam, "backup")?,
            show(fam, "backuplocation")?,
            show(fam, "phase")?,
            fam.label("from_schedule")?.name,
        );
        Ok(self.rule(
            "BackupCenterBackupStuck",
            format!("time() - {} > {}", fam.select(&[])?, self.t.stuck_after),
            self.t.pending.backup_stuck,
            Severity::Warning,
            format!(
                "Backup task {ns}/{backup} has been {phase} for {{{{ $value | humanizeDuration }}}}"
            ),
            format!(
                "Backup task {backup} in namespace {ns} (vault {vault}, {{{{ with \
                 $labels.{schedule} }}}}schedule {{{{ . }}}}{{{{ else }}}}manual backup{{{{ end \
                 }}}}) started {{{{ $value | humanizeDuration }}}} ago and is still {phase}, \
                 longer than the {} a backup may take. A component that restarted or ran out \
                 of memory often leaves tasks like this.",
                prom_duration(self.t.stuck_after)
            ),
        ))
    }

    /// Two rules under one name: a schedule whose last success is too old, and a schedule
    /// whose runs have all failed (it has no success to measure from).
    fn schedule_missed(&self) -> Result<[AlertRule; 2], ContractError> {
        let success = &f::SCHEDULE_LAST_SUCCESS;
        let interval = &f::SCHEDULE_INTERVAL;
        let info = &f::SCHEDULE_INFO;
        let last = &f::SCHEDULE_LAST_BACKUP_PHASE;
        let on = on(interval, &["namespace", "schedule"])?;
        let running = info.select(&[Matcher::eq("paused", "false")])?;
        let overdue = format!(
            "(time() - {}) > on ({on}) ({} * {}) and on ({on}) {running}",
            success.select(&[])?,
            number(self.t.rpo_factor),
            interval.select(&[])?,
        );
        let never = format!(
            "{} unless on ({on}) {} and on ({on}) {running} and on ({on}) ({} == 1)",
            interval.select(&[])?,
            success.select(&[])?,
            last.select(&[Matcher::re(
                "phase",
                any_of([Outcome::Failed.as_str(), Outcome::PartiallyFailed.as_str()])
            )])?,
        );
        let (ns, schedule) = (show(interval, "namespace")?, show(interval, "schedule")?);
        let factor = number(self.t.rpo_factor);
        let [mut overdue_rule, mut never_rule] = [
            self.rule(
                "BackupCenterScheduleMissed",
                overdue,
                self.t.pending.schedule_missed,
                Severity::Warning,
                format!(
                    "Schedule {ns}/{schedule} has no successful backup for {{{{ $value | humanizeDuration }}}}"
                ),
                format!(
                    "The newest Completed backup of schedule {schedule} in namespace {ns} ended \
                     {{{{ $value | humanizeDuration }}}} ago, more than {factor} times the \
                     schedule's own interval: its recovery point is older than planned. Its \
                     newest tasks: backupscope status -o yaml (schedules)"
                ),
            ),
            self.rule(
                "BackupCenterScheduleMissed",
                never,
                self.t.pending.schedule_missed,
                Severity::Warning,
                format!("Schedule {ns}/{schedule} has never completed a backup"),
                format!(
                    "Schedule {schedule} in namespace {ns} has run, but none of its backups \
                     Completed and the newest one failed: there is no recovery point from this \
                     schedule at all. Its newest tasks: backupscope status -o yaml (schedules)"
                ),
            ),
        ];
        // Two rules of one name need a label to tell them apart (promtool flags duplicates);
        // it also lets a route treat "never had a recovery point" differently.
        overdue_rule.labels.insert("problem", "overdue".into());
        never_rule
            .labels
            .insert("problem", "never_succeeded".into());
        Ok([overdue_rule, never_rule])
    }

    fn component_unhealthy(&self) -> Result<AlertRule, ContractError> {
        let fam = &f::COMPONENT_STATUS;
        let bad = any_of(
            ComponentStatus::ALL
                .iter()
                .filter(|s| s.severity() == Severity::Critical)
                .map(|s| s.as_str()),
        );
        let (ns, component, status) = (
            show(fam, "namespace")?,
            show(fam, "component")?,
            show(fam, "status")?,
        );
        Ok(self.rule(
            "BackupCenterComponentUnhealthy",
            format!("{} == 1", fam.select(&[Matcher::re("status", bad)])?),
            self.t.pending.component_unhealthy,
            ComponentStatus::UnHealth.severity(),
            format!("Backup center component {ns}/{component} is {status}"),
            format!(
                "Working component {component} in namespace {ns} is {status} (NotFound: its \
                 workload and pods are missing; UnHealth: not all desired pods are ready, or one \
                 is crash-looping). Backups and restores that need it fail or hang."
            ),
        ))
    }

    /// `increase(restarts[window])` over `threshold`, with the last termination's reason and
    /// exit code joined in when known.
    fn restarts(
        &self,
        selector: String,
        window: u64,
        threshold: &str,
    ) -> Result<String, ContractError> {
        let term = &f::COMPONENT_POD_LAST_TERMINATION;
        let on = on(
            &f::COMPONENT_POD_RESTARTS,
            &["namespace", "component", "pod", "container"],
        )?;
        let increase = format!(
            "(increase({selector}[{}]) {threshold})",
            prom_duration(window)
        );
        Ok(format!(
            "{increase} * on ({on}) group_left ({}) {} or {increase} unless on ({on}) {}",
            labels(term, &["reason", "exit_code"])?,
            term.select(&[])?,
            term.select(&[])?
        ))
    }

    fn component_restarting(&self) -> Result<AlertRule, ContractError> {
        let fam = &f::COMPONENT_POD_RESTARTS;
        let term = &f::COMPONENT_POD_LAST_TERMINATION;
        let (ns, component, pod, container) = (
            show(fam, "namespace")?,
            show(fam, "component")?,
            show(fam, "pod")?,
            show(fam, "container")?,
        );
        let (reason, exit) = (term.label("reason")?.name, show(term, "exit_code")?);
        let window = prom_duration(self.t.restart_window);
        Ok(self.rule(
            "BackupCenterComponentRestarting",
            self.restarts(fam.select(&[])?, self.t.restart_window, "> 0")?,
            self.t.pending.component_restarting,
            Severity::Warning,
            format!(
                "Backup center component {ns}/{component} restarted{{{{ if eq $labels.{reason} \
                 \"OOMKilled\" }}}} after it was OOMKilled{{{{ end }}}}"
            ),
            format!(
                "Container {container} of pod {pod} (component {component}, namespace {ns}) \
                 restarted {{{{ $value | humanize }}}} times in the last {window}; it last ended \
                 {{{{ with $labels.{reason} }}}}{{{{ . }}}} (exit code {exit}){{{{ else }}}}for \
                 an unrecorded reason{{{{ end }}}}.{{{{ if eq $labels.{reason} \"OOMKilled\" }}}} \
                 It ran out of memory: raise its memory limit. Tasks running at the time were \
                 marked Failed or stay InProgress.{{{{ end }}}}"
            ),
        ))
    }

    fn controller_crashlooping(&self) -> Result<AlertRule, ContractError> {
        let fam = &f::COMPONENT_POD_RESTARTS;
        // The controllers are the components that run as Deployments; the DaemonSet agents
        // (hbr-client, node-agent) only move volume data on their node.
        let controllers = any_of(
            COMPONENTS
                .iter()
                .filter(|c| c.kind == WorkloadKind::Deployment)
                .map(|c| c.name),
        );
        let term = &f::COMPONENT_POD_LAST_TERMINATION;
        let (ns, component, pod) = (
            show(fam, "namespace")?,
            show(fam, "component")?,
            show(fam, "pod")?,
        );
        let reason = term.label("reason")?.name;
        let window = prom_duration(self.t.crashloop_window);
        Ok(self.rule(
            "BackupCenterControllerCrashLooping",
            self.restarts(
                fam.select(&[Matcher::re("component", controllers)])?,
                self.t.crashloop_window,
                &format!(">= {}", self.t.crashloop_restarts),
            )?,
            self.t.pending.controller_crashlooping,
            Severity::Critical,
            format!("Backup center controller {ns}/{component} is crash-looping"),
            format!(
                "Pod {pod} of controller {component} in namespace {ns} restarted \
                 {{{{ $value | humanize }}}} times in the last {window}{{{{ with \
                 $labels.{reason} }}}}, last ending {{{{ . }}}}{{{{ end }}}}. While it \
                 crash-loops no backup, restore or schedule of the backup center makes progress."
            ),
        ))
    }

    fn source_down(&self) -> Result<AlertRule, ContractError> {
        let fam = &f::SOURCE_UP;
        let source = show(fam, "source")?;
        Ok(self.rule(
            "BackupscopeSourceDown",
            format!("{} == 0", fam.select(&[])?),
            self.t.pending.source_down,
            Severity::Warning,
            format!("backupscope cannot read {source}"),
            format!(
                "backupscope has failed to read {source}: the backup-center metrics built from it \
                 are missing or stale, so the other backup-center alerts cannot fire for it. \
                 backupscope's log names the error (RBAC, a missing CRD, an unreachable API \
                 server, an unreadable snapshot)."
            ),
        ))
    }
}

/// All rules, in two groups: the backup center's state, and backupscope's own health.
pub fn rule_file(t: &Thresholds) -> Result<RuleFile, ContractError> {
    let b = Builder { t };
    let mut center = vec![
        b.failed(Outcome::Failed, "BackupCenterBackupFailed")?,
        b.failed(
            Outcome::PartiallyFailed,
            "BackupCenterBackupPartiallyFailed",
        )?,
        b.vault_unavailable()?,
        b.vault_probe_failing()?,
        b.stuck()?,
    ];
    center.extend(b.schedule_missed()?);
    center.extend([
        b.component_unhealthy()?,
        b.component_restarting()?,
        b.controller_crashlooping()?,
    ]);
    Ok(RuleFile {
        groups: vec![
            RuleGroup {
                name: "backupcenter",
                rules: center,
            },
            RuleGroup {
                name: "backupscope",
                rules: vec![b.source_down()?],
            },
        ],
    })
}

const HEADER: &str = "# Generated by `backupscope rules`; do not edit. Runbook: docs/runbook.md\n";

/// The plain rule file (`rules/backupscope.rules.yaml`).
pub fn plain_yaml(t: &Thresholds) -> anyhow::Result<String> {
    Ok(format!(
        "{HEADER}{}",
        serde_norway::to_string(&rule_file(t)?)?
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PrometheusRule {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: RuleFile,
}

#[derive(Serialize)]
struct Metadata {
    name: &'static str,
    labels: BTreeMap<&'static str, &'static str>,
}

/// The same rules as a prometheus-operator PrometheusRule (`rules/prometheusrule.yaml`).
pub fn prometheus_rule_yaml(t: &Thresholds) -> anyhow::Result<String> {
    let manifest = PrometheusRule {
        api_version: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: Metadata {
            name: "backupscope",
            labels: BTreeMap::from([("app.kubernetes.io/name", "backupscope")]),
        },
        spec: rule_file(t)?,
    };
    Ok(format!("{HEADER}{}", serde_norway::to_string(&manifest)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_prometheus_reads_them() {
        assert_eq!(prom_duration(0), "0s");
        assert_eq!(prom_duration(21600), "6h");
        assert_eq!(prom_duration(5400), "1h30m");
        assert_eq!(prom_duration(90061), "1d1h1m1s");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(1.5), "1.5");
    }

    #[test]
    fn every_alert_is_generated_and_only_those() {
        let file = rule_file(&Thresholds::default()).unwrap();
        let mut names: Vec<&str> = file
            .groups
            .iter()
            .flat_map(|g| g.rules.iter().map(|r| r.alert))
            .collect();
        names.dedup();
        assert_eq!(names, ALERTS);
    }

    #[test]
    fn expressions_use_the_declared_vocabularies() {
        let file = rule_file(&Thresholds::default()).unwrap();
        let expr = |alert: &str| {
            file.groups
                .iter()
                .flat_map(|g| &g.rules)
                .find(|r| r.alert == alert)
                .unwrap()
                .expr
                .clone()
        };
        assert_eq!(
            expr("BackupCenterBackupFailed"),
            r#"backupcenter_backup_failed_info{phase=~"Failed|FailedValidation"} == 1"#
        );
        assert_eq!(
            expr("BackupCenterComponentUnhealthy"),
            r#"backupcenter_component_status{status=~"UnHealth|NotFound"} == 1"#
        );
        assert!(
            expr("BackupCenterControllerCrashLooping")
                .contains(r#"component=~"migrate-controller|csdr-controller|csdr-velero|velero""#)
        );
        assert_eq!(
            expr("BackupCenterBackupStuck"),
            "time() - backupcenter_backup_start_timestamp_seconds > 21600"
        );
    }

    #[test]
    fn thresholds_reach_the_rules() {
        let mut t = Thresholds {
            stuck_after: 90,
            rpo_factor: 1.5,
            runbook_url: "https://example.org/runbook".into(),
            ..Thresholds::default()
        };
        t.pending.vault_unavailable = 0;
        let file = rule_file(&t).unwrap();
        let rules: Vec<&AlertRule> = file.groups.iter().flat_map(|g| &g.rules).collect();
        let vault = rules
            .iter()
            .find(|r| r.alert == "BackupCenterVaultUnavailable")
            .unwrap();
        assert_eq!(vault.pending, None);
        assert_eq!(
            vault.annotations["runbook_url"],
            "https://example.org/runbook#backupcentervaultunavailable"
        );
        assert!(rules.iter().any(|r| r.expr.ends_with("> 90")));
        assert!(rules.iter().any(|r| r.expr.contains("(1.5 * ")));
    }
}
