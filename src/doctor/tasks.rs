//! Task rules: failed and partially failed backups and restores by reason class (the FAQ
//! catalogue), and tasks that name a vault that does not exist.

use super::catalogue::explain;
use super::commands;
use super::{Diagnosis, backup_kind, evidence, restore_kind, vault_kind};
use crate::center::{RestoreView, Severity, TaskView};
use crate::model::{BackupTask, Engine, ReasonClass, TaskPhase};
use crate::report::doctor::{Evidence, Finding, FixStep, ObjectRef};
use std::collections::HashMap;

/// A message short enough for a summary line.
pub(crate) fn brief(message: &str) -> String {
    const MAX: usize = 120;
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        one_line
    } else {
        one_line.chars().take(MAX - 1).collect::<String>() + "…"
    }
}

pub(crate) fn task_ref(task: &BackupTask) -> ObjectRef {
    ObjectRef::new(&task.namespace, backup_kind(task.engine), &task.name)
}

fn counts(errors: Option<u64>, warnings: Option<u64>) -> Option<String> {
    let parts: Vec<String> = [("errors", errors), ("warnings", warnings)]
        .into_iter()
        .filter_map(|(what, n)| n.map(|n| format!("{what} {n}")))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// "phase X, errors 1, warnings 2: message", leaving out what is unknown or empty.
fn state_fact(head: String, errors: Option<u64>, warnings: Option<u64>, message: &str) -> String {
    let mut fact = head;
    if let Some(n) = counts(errors, warnings) {
        fact.push_str(&format!(", {n}"));
    }
    if !message.is_empty() {
        fact.push_str(&format!(": {message}"));
    }
    fact
}

/// What the task itself, its twin, its events and its PodVolumeBackups show.
pub(crate) fn task_evidence(d: &Diagnosis, view: &TaskView) -> Vec<Evidence> {
    let t = view.task;
    let object = task_ref(t);
    let message = d.center.failure_message(view);
    // A twin's or an event's words on an unfinished or completed task are not its failure.
    let message = if t.phase.is_failure() { &message } else { "" };
    let fact = state_fact(
        format!("phase {}", t.shown_phase()),
        t.errors,
        t.warnings,
        message,
    );
    let mut ev = vec![evidence(
        t.completed.or(t.started).or(t.created),
        &object,
        fact,
    )];
    if let Some(twin) = view.twin {
        let r = ObjectRef::new(&twin.namespace, "Backup", &twin.name);
        let fact = state_fact(
            format!("velero twin phase {}", twin.shown_phase()),
            twin.errors,
            twin.warnings,
            &twin.message,
        );
        ev.push(evidence(twin.completed.or(twin.started), &r, fact));
    }
    ev.extend(d.events(&object));
    // The count is indexed; the scan runs only for the few tasks that have any.
    let inv = d.center.inventory;
    let pvbs = if inv.pod_volume_backup_count(&t.namespace, &t.name) > 0 {
        inv.pod_volume_backups.values().collect()
    } else {
        Vec::new()
    };
    for pvb in pvbs
        .into_iter()
        .filter(|p| p.namespace == t.namespace && p.backup == t.name && p.raw_phase == "Failed")
    {
        let r = ObjectRef::new(&pvb.namespace, "PodVolumeBackup", &pvb.name);
        ev.push(evidence(None, &r, "phase Failed".into()));
    }
    ev
}

/// Failed runs of one schedule with one reason class share their cause: one finding.
/// Manual tasks stand alone.
type FailureKey<'a> = (Engine, &'a str, &'a str, bool, ReasonClass);

pub fn failed_backups(d: &mut Diagnosis) {
    let c = d.center;
    let runs = c.schedule_runs();
    let mut groups: Vec<(FailureKey, Vec<TaskView>)> = Vec::new();
    let mut index: HashMap<FailureKey, usize> = HashMap::new();
    for task in d.flagged.iter().copied().filter(|t| t.phase.is_failure()) {
        if d.is_claimed(&task_ref(task)) {
            continue;
        }
        let view = c.view(task);
        let key = (
            task.engine,
            task.namespace.as_str(),
            if task.schedule.is_empty() {
                task.name.as_str()
            } else {
                task.schedule.as_str()
            },
            task.phase == TaskPhase::PartiallyFailed,
            c.reason(&view),
        );
        match index.get(&key) {
            Some(&i) => groups[i].1.push(view),
            None => {
                index.insert(key, groups.len());
                groups.push((key, vec![view]));
            }
        }
    }
    let mut found = Vec::new();
    for ((engine, ns, _, partial, reason), mut views) in groups {
        // Newest first: it is the finding's object, and its message the summary's.
        views.sort_by_key(|v| std::cmp::Reverse(v.task.completed.or(v.task.started)));
        let newest = views[0].task;
        let message = c.failure_message(&views[0]);
        let why = explain(engine, reason, &message, false);
        let mut fix = why.steps;
        let mut look = commands::describe_backup(newest);
        if engine == Engine::Ack {
            look.push(commands::backup_logs(newest));
        }
        fix.insert(
            0,
            FixStep {
                text: "Read the task's errors and its velero log.".into(),
                commands: look,
            },
        );
        let mut evidence_lines: Vec<Evidence> =
            views.iter().flat_map(|v| task_evidence(d, v)).collect();
        // Velero refuses backups to a restore-only vault; the vault's Available phase hides it.
        if let Some(v) = c.task_vault(newest).filter(|v| v.read_only()) {
            evidence_lines.push(evidence(
                v.last_validation,
                &ObjectRef::new(&v.namespace, vault_kind(v.engine), &v.name),
                format!(
                    "accessMode ReadOnly: vault {} takes no backups, it is only restored from",
                    v.name
                ),
            ));
            fix.push(FixStep {
                text: format!(
                    "Back up to a ReadWrite vault, or, if {} should take backups, set its \
                     spec.accessMode to ReadWrite.",
                    v.name
                ),
                commands: vec![commands::describe_vault(v)],
            });
        }
        // A schedule that has succeeded since: the failure is history, its cause may recur.
        let since = (!newest.schedule.is_empty())
            .then(|| runs.get(&(engine, ns, newest.schedule.as_str())))
            .flatten()
            .and_then(|r| r.last_success)
            .filter(|ok| newest.completed.is_some_and(|failed| *ok > failed));
        if let Some(ok) = since {
            evidence_lines.push(evidence(
                Some(ok),
                &ObjectRef::new(ns, super::schedule_kind(engine), &newest.schedule),
                format!("schedule has succeeded since: last success {ok}"),
            ));
        }
        let subject = if views.len() == 1 {
            format!("backup {} {}", newest.name, newest.shown_phase())
        } else {
            format!(
                "{} runs of schedule {} {}, newest {}",
                views.len(),
                newest.schedule,
                newest.shown_phase(),
                newest.name
            )
        };
        found.push(Finding {
            rule: if partial {
                "backup-partially-failed"
            } else {
                "backup-failed"
            },
            severity: if partial || since.is_some() {
                Severity::Warning
            } else {
                Severity::Critical
            },
            summary: format!(
                "{subject} ({reason}){}{}",
                if message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", brief(&message))
                },
                if since.is_some() {
                    "; the schedule has succeeded since"
                } else {
                    ""
                }
            ),
            evidence: evidence_lines,
            affected: views.iter().skip(1).map(|v| task_ref(v.task)).collect(),
            cause: why.cause,
            fix,
            object: task_ref(newest),
        });
    }
    d.extend(found);
}

pub(crate) fn restore_ref(view: &RestoreView) -> ObjectRef {
    let r = view.restore;
    ObjectRef::new(&r.namespace, restore_kind(r.engine), &r.name)
}

pub(crate) fn restore_evidence(d: &Diagnosis, view: &RestoreView) -> Vec<Evidence> {
    let r = view.restore;
    let object = restore_ref(view);
    let message = d.center.restore_failure_message(view);
    let fact = state_fact(
        format!("phase {} (backup {})", r.shown_phase(), r.backup),
        r.errors,
        r.warnings,
        &message,
    );
    let mut ev = vec![evidence(
        r.completed.or(r.started).or(r.created),
        &object,
        fact,
    )];
    if let Some(twin) = view.twin {
        let tr = ObjectRef::new(&twin.namespace, "Restore", &twin.name);
        let fact = state_fact(
            format!("velero twin phase {}", twin.shown_phase()),
            twin.errors,
            twin.warnings,
            &twin.message,
        );
        ev.push(evidence(twin.completed.or(twin.started), &tr, fact));
    }
    ev.extend(d.events(&object));
    ev
}

pub fn failed_restores(d: &mut Diagnosis) {
    let c = d.center;
    let mut found = Vec::new();
    for view in c.restores().filter(|v| v.restore.phase.is_failure()) {
        let object = restore_ref(&view);
        if d.is_claimed(&object) {
            continue;
        }
        let r = view.restore;
        let reason = c.restore_reason(&view);
        let message = c.restore_failure_message(&view);
        let partial = r.phase == TaskPhase::PartiallyFailed;
        let why = explain(r.engine, reason, &message, true);
        let mut fix = why.steps;
        fix.insert(
            0,
            FixStep {
                text: "Read the restore's errors and its log.".into(),
                commands: commands::describe_restore(r),
            },
        );
        found.push(Finding {
            rule: if partial {
                "restore-partially-failed"
            } else {
                "restore-failed"
            },
            severity: if partial {
                Severity::Warning
            } else {
                Severity::Critical
            },
            summary: format!(
                "restore {} of backup {} {} ({reason}){}",
                r.name,
                r.backup,
                r.shown_phase(),
                if message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", brief(&message))
                }
            ),
            evidence: restore_evidence(d, &view),
            affected: vec![],
            cause: why.cause,
            fix,
            object,
        });
    }
    d.extend(found);
}

/// The existing vault whose name is closest to a missing one (a typo such as `offsite` for
/// `offsite-s3`): one name contains the other.
fn closest<'a>(names: &[&'a str], missing: &str) -> Option<&'a str> {
    names
        .iter()
        .filter(|n| n.contains(missing) || missing.contains(**n))
        .min_by_key(|n| n.len().abs_diff(missing.len()))
        .copied()
}

pub fn missing_vaults(d: &mut Diagnosis) {
    let c = d.center;
    let vaults: std::collections::HashSet<(&str, &str)> = c
        .vaults()
        .map(|v| (v.namespace.as_str(), v.name.as_str()))
        .collect();
    let mut missing: Vec<(&str, &str)> = c
        .task_counts()
        .into_keys()
        .filter(|(_, vault)| !vault.is_empty())
        .filter(|key| !vaults.contains(key))
        // No vault at all in the namespace: the export lacks them; say nothing.
        .filter(|(ns, _)| vaults.iter().any(|(vns, _)| vns == ns))
        .collect();
    missing.sort_unstable();
    let mut found = Vec::new();
    for (ns, vault) in missing {
        let mut tasks: Vec<&BackupTask> = c
            .tasks()
            .filter(|t| t.namespace == ns && t.vault == vault)
            .collect();
        tasks.sort_by(|a, b| a.name.cmp(&b.name));
        let Some(first) = tasks.first() else {
            continue;
        };
        let engine = first.engine;
        let object = ObjectRef::new(ns, vault_kind(engine), vault);
        let names: Vec<&str> = c
            .vaults()
            .filter(|v| v.namespace == ns)
            .map(|v| v.name.as_str())
            .collect();
        let suggestion = closest(&names, vault);
        let any_failed = tasks.iter().any(|t| t.phase.is_failure());
        let mut ev = Vec::new();
        for t in &tasks {
            let view = c.view(t);
            let message = c.failure_message(&view);
            ev.push(evidence(
                t.completed.or(t.started).or(t.created),
                &task_ref(t),
                if t.phase.is_failure() && !message.is_empty() {
                    format!("phase {} naming vault {vault}: {message}", t.shown_phase())
                } else {
                    format!("phase {} naming vault {vault}", t.shown_phase())
                },
            ));
        }
        let list = match engine {
            Engine::Ack => format!("kubectl -n {} get backuplocation", commands::word(ns)),
            Engine::Velero => format!(
                "kubectl -n {} get backupstoragelocation",
                commands::word(ns)
            ),
        };
        let mut again = FixStep {
            text: format!(
                "Create the backup again with an existing vault{}.",
                suggestion
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default()
            ),
            commands: vec![list],
        };
        if let (Engine::Velero, Some(s)) = (engine, suggestion) {
            for t in tasks.iter().filter(|t| t.phase.is_failure()) {
                let namespaces = if t.included_namespaces.is_empty() {
                    String::new()
                } else {
                    format!(
                        " --include-namespaces {}",
                        commands::word(&t.included_namespaces.join(","))
                    )
                };
                again.commands.push(format!(
                    "{} backup create {}-retry --storage-location {}{namespaces}",
                    commands::velero(ns),
                    t.name,
                    s
                ));
            }
        }
        let names_list: Vec<String> = tasks.iter().map(|t| t.name.to_string()).collect();
        found.push(Finding {
            rule: "backup-vault-missing",
            severity: if any_failed {
                Severity::Critical
            } else {
                Severity::Warning
            },
            summary: format!(
                "{} task(s) name vault {vault}, which does not exist: {}",
                tasks.len(),
                names_list.join(", ")
            ),
            evidence: ev,
            affected: tasks.iter().map(|t| task_ref(t)).collect(),
            cause: format!(
                "No {} named {vault} exists in {ns}{}.",
                vault_kind(engine),
                if any_failed {
                    ", so the controller refused the backup"
                } else {
                    ": backups recorded in it cannot be restored from this cluster"
                }
            ),
            fix: vec![again],
            object,
        });
    }
    d.extend(found);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_vault_name() {
        let names = ["default", "offsite-s3", "gcs-archive"];
        assert_eq!(closest(&names, "offsite"), Some("offsite-s3"));
        assert_eq!(closest(&names, "elsewhere"), None);
    }

    #[test]
    fn brief_messages() {
        assert_eq!(brief("a\n  b"), "a b");
        assert_eq!(brief(&"x".repeat(500)).chars().count(), 120);
    }
}
