//! `doctor`: what an operator does by hand with kubectl (ACK's "Analyze abnormal monitoring
//! data", the backup-center FAQ catalogue, Velero's failure modes), done over the resolved
//! center. Rules run root causes first and claim the objects they explain, so a task failed on
//! an unavailable vault, or stuck because the server was OOMKilled, is named once, in the
//! finding of its cause.

mod ack;
mod catalogue;
mod commands;
mod components;
mod interrupted;
mod probes;
mod rules;
mod schedules;
mod tasks;
mod vaults;

pub use rules::{RULE_IDS, RULES, Rule, rule};

use crate::center::BackupCenter;
use crate::model::{BackupTask, Engine, Timestamp, WarningEvent};
use crate::report::doctor::{ClusterFacts, Evidence, Finding, ObjectRef};
use std::collections::HashSet;

/// Every finding for the center at its instant, most severe first.
pub fn diagnose(center: &BackupCenter, facts: &ClusterFacts) -> Vec<Finding> {
    let mut d = Diagnosis {
        center,
        facts,
        // Each lookup builds keys; rules walk these many times, so resolve them once.
        flagged: center.flagged_tasks().collect(),
        findings: Vec::new(),
        claimed: HashSet::new(),
    };
    // Root causes first: each claims the tasks, schedules and components it explains.
    vaults::unavailable(&mut d);
    probes::failing(&mut d);
    tasks::missing_vaults(&mut d);
    interrupted::server_restarts(&mut d);
    interrupted::stuck(&mut d);
    tasks::failed_backups(&mut d);
    tasks::failed_restores(&mut d);
    vaults::never_validated(&mut d);
    schedules::check(&mut d);
    ack::migrate_controller(&mut d);
    components::check(&mut d);
    ack::versions(&mut d);
    let mut findings = d.findings;
    for f in &mut findings {
        // Oldest first; facts without a time after those with one.
        f.evidence.sort_by_key(|e| (e.time.is_none(), e.time));
        f.evidence.dedup();
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.object.cmp(&b.object))
            .then_with(|| a.rule.cmp(b.rule))
    });
    findings
}

/// The state of one diagnosis: findings so far and the objects they already explain.
pub(crate) struct Diagnosis<'c, 'a> {
    pub center: &'c BackupCenter<'a>,
    pub facts: &'c ClusterFacts,
    /// The failed and unfinished tasks (`BackupCenter::flagged_tasks`).
    pub flagged: Vec<&'a BackupTask>,
    pub findings: Vec<Finding>,
    claimed: HashSet<ObjectRef>,
}

impl Diagnosis<'_, '_> {
    pub fn claim(&mut self, object: &ObjectRef) {
        self.claimed.insert(object.clone());
    }

    pub fn extend(&mut self, findings: Vec<Finding>) {
        for f in findings {
            self.push(f);
        }
    }

    pub fn is_claimed(&self, object: &ObjectRef) -> bool {
        self.claimed.contains(object)
    }

    pub fn push(&mut self, finding: Finding) {
        self.claim(&finding.object);
        for a in &finding.affected {
            self.claimed.insert(a.clone());
        }
        self.findings.push(finding);
    }

    /// Warning events about one object, newest last, as evidence lines.
    pub fn events(&self, object: &ObjectRef) -> Vec<Evidence> {
        self.center
            .inventory
            .events_about(&object.namespace, &object.name)
            .into_iter()
            .filter(|e| e.involved_kind.is_empty() || e.involved_kind == object.kind)
            .map(|e| event_evidence(object, e))
            .collect()
    }
}

fn event_evidence(object: &ObjectRef, e: &WarningEvent) -> Evidence {
    let times = if e.count > 1 {
        format!(
            " ×{}{}",
            e.count,
            e.first.map(|t| format!(" since {t}")).unwrap_or_default()
        )
    } else {
        String::new()
    };
    Evidence {
        time: e.last.or(e.first),
        object: object.clone(),
        fact: format!(
            "{} event {}{}: {}",
            e.event_type, e.reason, times, e.message
        ),
    }
}

pub(crate) fn evidence(time: Option<Timestamp>, object: &ObjectRef, fact: String) -> Evidence {
    Evidence {
        time,
        object: object.clone(),
        fact,
    }
}

/// Kubernetes kind of each backup-center object, per engine.
pub(crate) fn vault_kind(engine: Engine) -> &'static str {
    match engine {
        Engine::Ack => "BackupLocation",
        Engine::Velero => "BackupStorageLocation",
    }
}

pub(crate) fn backup_kind(engine: Engine) -> &'static str {
    match engine {
        Engine::Ack => "ApplicationBackup",
        Engine::Velero => "Backup",
    }
}

pub(crate) fn restore_kind(engine: Engine) -> &'static str {
    match engine {
        Engine::Ack => "ApplicationRestore",
        Engine::Velero => "Restore",
    }
}

pub(crate) fn schedule_kind(engine: Engine) -> &'static str {
    match engine {
        Engine::Ack => "BackupSchedule",
        Engine::Velero => "Schedule",
    }
}

/// A span of seconds as people say it in a report: `9h57m49s`, `3d6h12m`, `6h30m`, `2h`.
/// Units run from the largest non-zero to the smallest non-zero; seconds are dropped past a day.
pub(crate) fn span(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    let units = [
        (s / 86400, "d"),
        (s / 3600 % 24, "h"),
        (s / 60 % 60, "m"),
        (s % 60, "s"),
    ];
    let last = if s >= 86400 { 2 } else { 3 };
    let Some(first) = units.iter().position(|(n, _)| *n > 0) else {
        return "0s".into();
    };
    let end = (first..=last)
        .rev()
        .find(|i| units[*i].0 > 0)
        .unwrap_or(first);
    units[first..=end]
        .iter()
        .map(|(n, u)| format!("{n}{u}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_like_a_report() {
        assert_eq!(span(12.0), "12s");
        assert_eq!(span(531.0), "8m51s");
        assert_eq!(span(35869.0), "9h57m49s");
        assert_eq!(span(281530.0), "3d6h12m");
        assert_eq!(span(-3.0), "0s");
        assert_eq!(span(86400.0), "1d");
        assert_eq!(span(7200.0), "2h");
        assert_eq!(span(23400.0), "6h30m");
        assert_eq!(span(3605.0), "1h0m5s");
        assert_eq!(span(86430.0), "1d");
    }
}
