//! Backup Health, beyond the ACK dashboards: is every schedule within its own interval (RPO),
//! which tasks started and never finished, how restores went, which schedules cannot run.

use super::build::{
    self, CLUSTER_LABEL, CLUSTER_TITLE, Vars, by, graph_query, label, legend, organize, select,
    state_colours, state_column, table, table_query, unit_column, value_of,
};
use super::model::{Dashboard, Override, Property};
use crate::center::Severity;
use crate::metrics::contract::ContractError;
use crate::metrics::families::{
    BACKUP_START, BACKUPS, RESTORE_FAILED_INFO as RESTORE_FAILED, RESTORE_START, RESTORES,
    SCHEDULE_INFO, SCHEDULE_INTERVAL as INTERVAL, SCHEDULE_LAST_SUCCESS as LAST_SUCCESS,
    SCHEDULE_PHASE,
};
use crate::model::{Outcome, SchedulePhase, TaskPhase};
use serde_json::{Value, json};

const VARS: Vars = Vars {
    backuplocation: true,
};

/// Time since the last good backup over the schedule's interval: above 1 a run was missed,
/// above 2 two were (the threshold of docs/metrics.md's "missed their own interval twice").
const RATIO_WARNING: f64 = 1.0;
const RATIO_CRITICAL: f64 = 2.0;
/// A task running for longer than this is worth a look (docs/metrics.md: "Tasks running for
/// more than an hour").
const LONG_RUNNING_SECONDS: f64 = 3600.0;

pub fn dashboard() -> Result<Dashboard, ContractError> {
    let schedule_phase = label(&SCHEDULE_PHASE, "phase")?;
    let schedule_colours = state_colours(SchedulePhase::ALL, SchedulePhase::as_str);
    let task_colours = state_colours(TaskPhase::ALL, TaskPhase::as_str);

    let schedule_states = build::state_counts(
        "Schedules by phase",
        "Schedules by phase. A schedule in FailedValidation never runs (its cron is invalid or its vault is missing).",
        (0, 0, 12, 4),
        &SCHEDULE_PHASE,
        "phase",
        VARS,
        SchedulePhase::ALL,
        SchedulePhase::as_str,
    )?;
    let restores = build::state_counts(
        "Restores by outcome",
        "Restore tasks by outcome group.",
        (12, 0, 12, 4),
        &RESTORES,
        "phase",
        VARS,
        Outcome::ALL,
        Outcome::as_str,
    )?;

    // Per schedule: the series without a vault label are kept only for schedules of the
    // selected vaults (`and on` the schedule's info).
    let key = by(&SCHEDULE_INFO, &["schedule"])?;
    let of_selected = format!("and on ({key}) {}", select(&SCHEDULE_INFO, &[], VARS)?);
    let since_success = format!(
        "max by ({}) (time() - {})",
        by(&LAST_SUCCESS, &["schedule"])?,
        select(&LAST_SUCCESS, &[], VARS)?
    );
    let interval = format!(
        "max by ({}) ({})",
        by(&INTERVAL, &["schedule"])?,
        select(&INTERVAL, &[], VARS)?
    );
    let ratio = format!("({since_success} / {interval}) {of_selected}");
    let rpo = table(
        "RPO per schedule",
        "Per schedule: its vault, cron and phase, the time since its newest Completed backup, the longest expected gap between two runs (from its cron or interval), and their ratio: above 1 a run was missed, above 2 two were. A paused schedule is expected to fall behind.",
        (0, 4, 24, 9),
        vec![
            table_query(
                "A",
                format!(
                    "max by ({}) ({})",
                    by(
                        &SCHEDULE_INFO,
                        &["schedule", "backuplocation", "cron", "paused"]
                    )?,
                    select(&SCHEDULE_INFO, &[], VARS)?
                ),
            ),
            table_query(
                "B",
                format!(
                    "max by ({}) ({} == 1) {of_selected}",
                    by(&SCHEDULE_PHASE, &["schedule", "phase"])?,
                    select(&SCHEDULE_PHASE, &[], VARS)?
                ),
            ),
            table_query("C", format!("{since_success} {of_selected}")),
            table_query("D", format!("{interval} {of_selected}")),
            table_query("E", ratio.clone()),
        ],
        vec![
            build::merge(),
            organize(
                &[
                    (label(&SCHEDULE_INFO, "schedule")?, "Schedule"),
                    (label(&SCHEDULE_INFO, "backuplocation")?, "Backuplocation"),
                    (label(&SCHEDULE_INFO, "cron")?, "Cron"),
                    (label(&SCHEDULE_INFO, "paused")?, "Paused"),
                    (schedule_phase, "Phase"),
                    (&value_of("C"), "Since last success"),
                    (&value_of("D"), "Interval"),
                    (&value_of("E"), "RPO / interval"),
                    (label(&SCHEDULE_INFO, "namespace")?, "Namespace"),
                    (CLUSTER_LABEL, CLUSTER_TITLE),
                ],
                &[&value_of("A"), &value_of("B")],
            ),
        ],
        vec![
            state_column("Phase", &schedule_colours),
            unit_column("Since last success", "dtdurations"),
            unit_column("Interval", "dtdurations"),
            ratio_column("RPO / interval"),
        ],
    );

    let rpo_graph = {
        let schedule = label(&LAST_SUCCESS, "schedule")?;
        let mut p = build::panel(
            "timeseries",
            "RPO against interval",
            "Time since each schedule's last good backup divided by its interval. The dashed lines are 1 (a run missed) and 2 (two missed).",
            (0, 13, 24, 8),
            vec![graph_query("A", ratio, legend(schedule))],
        );
        p.field_config.defaults.decimals = Some(2);
        p.field_config.defaults.thresholds = Some(ratio_thresholds());
        p.field_config.defaults.custom = Some(json!({
            "thresholdsStyle": { "mode": "dashed" },
            "lineWidth": 2,
            "fillOpacity": 0,
            "showPoints": "never"
        }));
        p.options = build::timeseries_options();
        p
    };

    let running = "Running for";
    let stuck = table(
        "Unfinished backup tasks",
        "Backup tasks that have not finished, with how long ago they started (created, for a task not picked up yet). A task running far longer than its peers is stuck: check whether the velero component restarted (Addon Status).",
        (0, 21, 24, 7),
        vec![table_query(
            "A",
            format!(
                "max by ({}) (time() - {})",
                by(
                    &BACKUP_START,
                    &["backup", "backuplocation", "phase", "from_schedule"]
                )?,
                select(&BACKUP_START, &[], VARS)?
            ),
        )],
        vec![organize(
            &[
                (label(&BACKUP_START, "backup")?, "Backup"),
                (label(&BACKUP_START, "backuplocation")?, "Backuplocation"),
                (label(&BACKUP_START, "phase")?, "Phase"),
                (label(&BACKUP_START, "from_schedule")?, "FromSchedule"),
                (build::VALUE, running),
                (label(&BACKUP_START, "namespace")?, "Namespace"),
                (CLUSTER_LABEL, CLUSTER_TITLE),
            ],
            &[],
        )],
        vec![
            state_column("Phase", &task_colours),
            long_running_column(running),
        ],
    );

    let failed_restores = table(
        "Failed restores",
        "Failed and partially failed restore tasks with the reason class of their message.",
        (0, 28, 12, 7),
        vec![table_query(
            "A",
            format!(
                "max by ({}) ({})",
                by(&RESTORE_FAILED, &["restore", "backup", "phase", "reason"])?,
                select(&RESTORE_FAILED, &[], VARS)?
            ),
        )],
        vec![organize(
            &[
                (label(&RESTORE_FAILED, "restore")?, "Restore"),
                (label(&RESTORE_FAILED, "backup")?, "Backup"),
                (label(&RESTORE_FAILED, "phase")?, "Phase"),
                (label(&RESTORE_FAILED, "reason")?, "Reason"),
                (label(&RESTORE_FAILED, "namespace")?, "Namespace"),
                (CLUSTER_LABEL, CLUSTER_TITLE),
            ],
            &[build::VALUE],
        )],
        vec![state_column("Phase", &task_colours)],
    );
    let unfinished_restores = table(
        "Unfinished restores",
        "Restore tasks that have not finished, with how long ago they started.",
        (12, 28, 12, 7),
        vec![table_query(
            "A",
            format!(
                "max by ({}) (time() - {})",
                by(&RESTORE_START, &["restore", "backup", "phase"])?,
                select(&RESTORE_START, &[], VARS)?
            ),
        )],
        vec![organize(
            &[
                (label(&RESTORE_START, "restore")?, "Restore"),
                (label(&RESTORE_START, "backup")?, "Backup"),
                (label(&RESTORE_START, "phase")?, "Phase"),
                (build::VALUE, running),
                (label(&RESTORE_START, "namespace")?, "Namespace"),
                (CLUSTER_LABEL, CLUSTER_TITLE),
            ],
            &[],
        )],
        vec![
            state_column("Phase", &task_colours),
            long_running_column(running),
        ],
    );

    Ok(build::dashboard(
        "backupscope-backup-health",
        "Backup Health",
        "RPO per schedule against its own interval, unfinished (stuck) tasks, restores and schedule states. Generated by `backupscope dashboards`.",
        build::variables(BACKUPS.name(), VARS),
        vec![
            schedule_states,
            restores,
            rpo,
            rpo_graph,
            stuck,
            failed_restores,
            unfinished_restores,
        ],
    ))
}

fn ratio_thresholds() -> Value {
    json!({
        "mode": "absolute",
        "steps": [
            { "color": build::colour(Severity::Ok), "value": Value::Null },
            { "color": build::colour(Severity::Warning), "value": RATIO_WARNING },
            { "color": build::colour(Severity::Critical), "value": RATIO_CRITICAL }
        ]
    })
}

fn ratio_column(column: &str) -> Override {
    Override::by_name(
        column,
        vec![
            Property::new("thresholds", ratio_thresholds()),
            Property::new("decimals", Value::from(2)),
            Property::new(
                "custom.cellOptions",
                json!({ "type": "color-background", "mode": "basic" }),
            ),
        ],
    )
}

fn long_running_column(column: &str) -> Override {
    Override::by_name(
        column,
        vec![
            Property::new("unit", Value::from("dtdurations")),
            Property::new(
                "thresholds",
                json!({
                    "mode": "absolute",
                    "steps": [
                        { "color": build::colour(Severity::Ok), "value": Value::Null },
                        { "color": build::colour(Severity::Warning), "value": LONG_RUNNING_SECONDS }
                    ]
                }),
            ),
            Property::new("custom.cellOptions", json!({ "type": "color-text" })),
        ],
    )
}
