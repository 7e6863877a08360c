//! Backup Operation Status: backup tasks per vault by outcome (Backup Overview) and the failed
//! ones with their reason class (Failed Backup Detail).

use super::build::{
    self, CLUSTER_LABEL, CLUSTER_TITLE, VALUE, Vars, by, graph_query, label, legend, organize,
    select, series_overrides, state_colours, state_column, table, table_query, unit_column,
    value_of,
};
use super::model::{Dashboard, Target};
use crate::metrics::contract::{ContractError, Matcher};
use crate::metrics::families::{
    BACKUP_COMPLETION as COMPLETION, BACKUP_FAILED_INFO as FAILED, BACKUPS,
};
use crate::model::{Outcome, TaskPhase};

const VARS: Vars = Vars {
    backuplocation: true,
};

/// Query ids A, B, … for the outcomes in display order.
fn ref_id(i: usize) -> String {
    char::from(b'A' + u8::try_from(i).unwrap_or(25).min(25)).to_string()
}

pub fn dashboard() -> Result<Dashboard, ContractError> {
    let phase = label(&BACKUPS, "phase")?;
    let backuplocation = label(&BACKUPS, "backuplocation")?;

    let totals = build::state_counts(
        "Tasks by outcome",
        "Backup tasks of the selected vaults, by outcome group: every in-flight phase counts as InProgress, FailedValidation as Failed.",
        (0, 0, 24, 4),
        &BACKUPS,
        "phase",
        VARS,
        Outcome::ALL,
        Outcome::as_str,
    )?;

    // One query per outcome, merged into one row per vault with a column per outcome: the
    // shape a bar chart draws as one stacked bar per vault.
    let mut per_outcome: Vec<Target> = Vec::new();
    let mut columns = vec![(backuplocation.to_string(), "Backuplocation".to_string())];
    for (i, outcome) in Outcome::ALL.iter().enumerate() {
        let id = ref_id(i);
        per_outcome.push(build::table_query(
            &id,
            format!(
                "sum by ({}) ({})",
                by(&BACKUPS, &["backuplocation"])?,
                select(&BACKUPS, &[Matcher::eq(phase, outcome.as_str())], VARS)?
            ),
        ));
        columns.push((value_of(&id), outcome.as_str().to_string()));
    }
    let columns: Vec<(&str, &str)> = columns
        .iter()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect();
    let overview = {
        let mut p = build::panel(
            "barchart",
            "Backup Overview",
            "Backup tasks created in each vault, instant and scheduled, by outcome: Failed in red, Completed in green, PartiallyFailed and InProgress in orange shades. A vault that tasks name but that does not exist is shown too.",
            (0, 4, 24, 9),
            per_outcome,
        );
        p.transformations = vec![
            build::merge(),
            organize(&columns, &[label(&BACKUPS, "namespace")?, CLUSTER_LABEL]),
        ];
        p.field_config.overrides = series_overrides(Outcome::ALL, Outcome::as_str);
        p.field_config.defaults.decimals = Some(0);
        p.field_config.defaults.custom = Some(serde_json::json!({
            "fillOpacity": 80,
            "lineWidth": 1,
            "gradientMode": "none",
            "axisPlacement": "auto",
            "axisLabel": "backup tasks",
            "axisCenteredZero": false,
            "axisBorderShow": false,
            "hideFrom": { "legend": false, "tooltip": false, "viz": false },
            "scaleDistribution": { "type": "linear" },
            "thresholdsStyle": { "mode": "off" }
        }));
        p.options = build::barchart_options("Backuplocation");
        p
    };

    let shown = [
        "backup",
        "backuplocation",
        "backup_type",
        "data_type",
        "from_schedule",
        "phase",
        "reason",
    ];
    let failed_expr = format!(
        "max by ({}) ({})",
        by(&FAILED, &shown)?,
        select(&FAILED, &[], VARS)?
    );
    // Milliseconds, the unit of Grafana's date formats.
    let finished_expr = format!(
        "max by ({}) ({}) * 1000",
        by(&COMPLETION, &["backup", "backuplocation"])?,
        select(&COMPLETION, &[], VARS)?
    );
    let finished = "Finished";
    let task_colours = state_colours(TaskPhase::ALL, TaskPhase::as_str);
    let detail = table(
        "Failed Backup Detail",
        "Failed and partially failed backup tasks. Reason is the class of the controller's message (VaultError, HBRError, Timeout, …); `backupscope describe backup NAME` shows the message itself. An empty FromSchedule is an instant backup.",
        (0, 13, 24, 10),
        vec![
            table_query("A", failed_expr),
            table_query("B", finished_expr),
        ],
        vec![
            build::merge(),
            organize(
                &[
                    (label(&FAILED, "backup")?, "Backup"),
                    (label(&FAILED, "backuplocation")?, "Backuplocation"),
                    (label(&FAILED, "backup_type")?, "BackupType"),
                    (label(&FAILED, "data_type")?, "DataType"),
                    (label(&FAILED, "from_schedule")?, "FromSchedule"),
                    (label(&FAILED, "phase")?, "Phase"),
                    (label(&FAILED, "reason")?, "Reason"),
                    (&value_of("B"), finished),
                    (label(&FAILED, "namespace")?, "Namespace"),
                    (CLUSTER_LABEL, CLUSTER_TITLE),
                ],
                &[&value_of("A"), VALUE],
            ),
        ],
        vec![
            state_column("Phase", &task_colours),
            unit_column(finished, "dateTimeAsIso"),
        ],
    );

    let failing = [Outcome::Failed, Outcome::PartiallyFailed]
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join("|");
    let trend = build::graph(
        "Failed tasks per vault",
        "Failed and partially failed tasks per vault over time: a step up is a new failure.",
        (0, 23, 24, 8),
        graph_query(
            "A",
            format!(
                "sum by ({backuplocation}) ({})",
                select(&BACKUPS, &[Matcher::re(phase, failing)], VARS)?
            ),
            legend(backuplocation),
        ),
        0,
    );

    Ok(build::dashboard(
        "backupscope-backup-operation-status",
        "Backup Operation Status",
        "Backup tasks per vault by outcome, and the failed ones with their reason. Generated by `backupscope dashboards`.",
        build::variables(BACKUPS.name(), VARS),
        vec![totals, overview, detail, trend],
    ))
}
