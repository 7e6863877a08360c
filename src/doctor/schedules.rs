//! Schedule rules: a missed RPO (last good backup older than the schedule's own interval × 2),
//! a schedule that failed validation, a paused schedule.

use super::commands;
use super::{Diagnosis, evidence, schedule_kind, span};
use crate::center::{BackupCenter, ScheduleRuns, Severity};
use crate::model::{BackupTask, Schedule, Timestamp};
use crate::report::doctor::{Finding, FixStep, ObjectRef};
use std::collections::HashMap;

/// Where a schedule stands against its RPO at the center's instant.
pub struct Rpo<'a> {
    pub interval: Option<f64>,
    pub rpo: Option<f64>,
    pub last_success: Option<Timestamp>,
    /// Seconds since the last success (or, with none, since the schedule was created).
    pub age: Option<f64>,
    pub missed: bool,
    pub last_task: Option<&'a BackupTask>,
}

pub fn rpo<'a>(c: &BackupCenter<'a>, s: &Schedule, runs: &ScheduleRuns<'a>) -> Rpo<'a> {
    let interval = c
        .schedule_can_run(s)
        .then_some(s.interval_seconds)
        .flatten();
    let age = runs.last_success.or(s.created).map(|t| c.seconds_since(t));
    let missed = c.schedule_missed_rpo(s, runs.last_success);
    Rpo {
        interval,
        rpo: c.schedule_rpo_seconds(s),
        last_success: runs.last_success,
        age,
        missed,
        last_task: runs.last_task,
    }
}

impl Rpo<'_> {
    /// "last success 21h59m17s ago, bound 13h0m0s (2 × 6h30m0s): RPO missed".
    pub fn describe(&self, paused: bool) -> String {
        let bound = match (self.rpo, self.interval) {
            (Some(rpo), Some(i)) => format!("bound {} (2 × {})", span(rpo), span(i)),
            _ => "no interval".into(),
        };
        let last = match (self.last_success, self.age) {
            (Some(_), Some(age)) => format!("last success {} ago", span(age)),
            (None, Some(age)) => format!(
                "no successful backup in the {} since it was created",
                span(age)
            ),
            _ => "no successful backup".into(),
        };
        let newest = self
            .last_task
            .map(|t| format!("; newest run {} {}", t.name, t.shown_phase()))
            .unwrap_or_default();
        format!(
            "{}{last}, {bound}{}{newest}",
            if paused { "paused; " } else { "" },
            if self.missed { ": RPO missed" } else { "" }
        )
    }
}

pub fn check(d: &mut Diagnosis) {
    let c = d.center;
    let runs = c.schedule_runs();
    // Runs since a missed schedule's last success are all failed or unfinished: index those
    // once instead of walking them per schedule.
    let mut flagged: HashMap<(&str, &str), Vec<&BackupTask>> = HashMap::new();
    for t in d.flagged.iter().copied().filter(|t| !t.schedule.is_empty()) {
        flagged
            .entry((t.namespace.as_str(), t.schedule.as_str()))
            .or_default()
            .push(t);
    }
    let mut found = Vec::new();
    for s in c.schedules() {
        let object = ObjectRef::new(&s.namespace, schedule_kind(s.engine), &s.name);
        if d.is_claimed(&object) {
            continue;
        }
        let run = runs
            .get(&(s.engine, s.namespace.as_str(), s.name.as_str()))
            .copied()
            .unwrap_or_default();
        let rpo = rpo(c, s, &run);
        let describe = commands::describe_schedule(s.engine, &s.namespace, &s.name);
        if !c.schedule_can_run(s) {
            let problem = c.schedule_problem(s);
            found.push(Finding {
                rule: "schedule-failed-validation",
                severity: Severity::Critical,
                summary: format!("schedule {} failed validation and never runs", s.name),
                evidence: vec![evidence(
                    s.created,
                    &object,
                    format!("phase {:?}, schedule {:?}: {problem}", s.raw_phase, s.cron),
                )],
                affected: vec![],
                cause: format!("The controller rejects the schedule: {problem}"),
                fix: vec![FixStep {
                    text: "Correct spec.schedule (a 5-field cron, `@every 6h`, or an interval \
                           such as `6h30m` on ACK)."
                        .into(),
                    commands: vec![describe],
                }],
                object,
            });
        } else if s.paused {
            found.push(Finding {
                rule: "schedule-paused",
                severity: if rpo.missed {
                    Severity::Warning
                } else {
                    Severity::Unknown
                },
                summary: if rpo.missed {
                    format!(
                        "schedule {} is paused and its last good backup is past the RPO",
                        s.name
                    )
                } else {
                    format!("schedule {} is paused: it makes no backups", s.name)
                },
                evidence: vec![evidence(rpo.last_success, &object, rpo.describe(true))],
                affected: vec![],
                cause: "spec.paused is true.".into(),
                fix: vec![FixStep {
                    text: "If the pause is not deliberate any more, resume it.".into(),
                    commands: vec![commands::unpause_schedule(s.engine, &s.namespace, &s.name)],
                }],
                object,
            });
        } else if rpo.missed {
            let runs = flagged
                .get(&(s.namespace.as_str(), s.name.as_str()))
                .map_or(&[][..], Vec::as_slice);
            found.push(missed(d, s, &rpo, runs, object, describe));
        }
    }
    d.extend(found);
}

fn missed(
    d: &Diagnosis,
    s: &Schedule,
    rpo: &Rpo,
    flagged: &[&BackupTask],
    object: ObjectRef,
    describe: String,
) -> Finding {
    let c = d.center;
    let mut ev = vec![evidence(rpo.last_success, &object, rpo.describe(false))];
    // The runs since the last success say why none succeeded. None of them Completed, so
    // all are among the failed and unfinished tasks.
    let mut since: Vec<&BackupTask> = flagged
        .iter()
        .copied()
        .filter(|t| {
            let at = t.started.or(t.created);
            rpo.last_success.is_none_or(|ok| at.is_some_and(|a| a > ok))
        })
        .collect();
    since.sort_by_key(|t| t.started.or(t.created));
    for t in &since {
        let r = ObjectRef::new(&t.namespace, super::backup_kind(t.engine), &t.name);
        let view = c.view(t);
        let why = c.failure_message(&view);
        ev.push(evidence(
            t.completed.or(t.started),
            &r,
            if t.phase.is_failure() && !why.is_empty() {
                format!("{}: {why}", t.shown_phase())
            } else {
                t.shown_phase()
            },
        ));
    }
    let mut fix = vec![FixStep {
        text: "Read the schedule and its newest run.".into(),
        commands: std::iter::once(describe)
            .chain(
                rpo.last_task
                    .map(commands::describe_backup)
                    .unwrap_or_default(),
            )
            .collect(),
    }];
    if since.is_empty() {
        fix.push(FixStep {
            text: "No run since: check that the controller is running.".into(),
            commands: vec![],
        });
    }
    Finding {
        rule: "schedule-missed-rpo",
        severity: Severity::Critical,
        summary: format!(
            "schedule {} has no good backup for {} (RPO {})",
            s.name,
            rpo.age.map(span).unwrap_or_default(),
            rpo.rpo.map(span).unwrap_or_default()
        ),
        evidence: ev,
        affected: vec![],
        cause: if since.is_empty() {
            "The schedule has made no backup since its last success.".into()
        } else {
            format!(
                "{} run(s) since the last success, none Completed.",
                since.len()
            )
        },
        fix,
        object,
    }
}
