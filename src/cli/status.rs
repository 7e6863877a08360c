//! `backupscope status`: renders the status document (`crate::report::status`) as the tables
//! of the three ACK dashboards, with the schedules and restores behind them.

use super::output::{self, Format, Table, cell};
use crate::model::quantity;
use crate::report::status::{LocationCounts, StatusReport};
use std::fmt::Write as _;

/// The vault cell: its name, marked when no such vault exists.
fn vault_cell(name: &str, exists: bool) -> String {
    if exists {
        cell(name)
    } else {
        format!("{} (not found)", cell(name))
    }
}

/// A count the controller may not have written: `-` when it did not.
fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "-".into(), |n| n.to_string())
}

/// Headers with NAMESPACE second when the report spans several namespaces.
fn headers<'a>(first: &'a str, rest: &[&'a str], namespaced: bool) -> Vec<&'a str> {
    let mut h = vec![first];
    if namespaced {
        h.push("NAMESPACE");
    }
    h.extend_from_slice(rest);
    h
}

/// A row with the namespace cell second when the report spans several namespaces.
fn row(first: String, namespace: &str, rest: Vec<String>, namespaced: bool) -> Vec<String> {
    let mut r = vec![first];
    if namespaced {
        r.push(cell(namespace));
    }
    r.extend(rest);
    r
}

impl StatusReport {
    pub fn render(&self, format: Format, colour: bool) -> anyhow::Result<String> {
        if format != Format::Table {
            return output::serialize(self, format);
        }
        let ns = self.namespaces() > 1;
        let mut out = String::new();
        out.push_str("BACKUP LOCATIONS\n");
        let mut t = Table::new(
            &headers(
                "BACKUPLOCATION",
                &["OSS BUCKET", "REGION", "NETWORKPOLICY", "PHASE"],
                ns,
            ),
            colour,
        );
        for v in &self.backup_locations {
            t.row(row(
                cell(&v.name),
                &v.namespace,
                vec![
                    cell(&v.bucket),
                    cell(&v.region),
                    cell(&v.network_policy),
                    v.phase.to_string(),
                ],
                ns,
            ));
        }
        out.push_str(&t.render());

        out.push_str("\nBACKUP OPERATION STATUS\n");
        let ops = &self.backup_operation_status;
        let mut t = Table::new(
            &headers(
                "BACKUPLOCATION",
                &[
                    "COMPLETED",
                    "PARTIALLYFAILED",
                    "FAILED",
                    "INPROGRESS",
                    "OTHER",
                    "TOTAL",
                ],
                ns,
            ),
            colour,
        );
        for LocationCounts {
            backup_location,
            namespace,
            backup_location_exists,
            counts: c,
        } in &ops.per_location
        {
            t.row(row(
                vault_cell(backup_location, *backup_location_exists),
                namespace,
                vec![
                    c.completed.to_string(),
                    c.partially_failed.to_string(),
                    c.failed.to_string(),
                    c.in_progress.to_string(),
                    c.other.to_string(),
                    c.total.to_string(),
                ],
                ns,
            ));
        }
        out.push_str(&t.render());

        out.push_str("\nFAILED BACKUP DETAIL\n");
        if ops.failed_backups.is_empty() {
            out.push_str("No failed backups.\n");
        } else {
            let mut t = Table::new(
                &headers(
                    "BACKUP",
                    &[
                        "BACKUPLOCATION",
                        "BACKUPTYPE",
                        "DATATYPE",
                        "FROMSCHEDULE",
                        "PHASE",
                        "REASON",
                    ],
                    ns,
                ),
                colour,
            );
            for f in &ops.failed_backups {
                t.row(row(
                    cell(&f.backup),
                    &f.namespace,
                    vec![
                        vault_cell(&f.backup_location, f.backup_location_exists),
                        f.backup_type.to_string(),
                        cell(f.data_type),
                        cell(&f.from_schedule),
                        f.phase.to_string(),
                        f.reason.to_string(),
                    ],
                    ns,
                ));
            }
            out.push_str(&t.render());
        }

        out.push_str("\nSCHEDULES\n");
        if self.schedules.is_empty() {
            out.push_str("No schedules.\n");
        } else {
            let mut t = Table::new(
                &[
                    "SCHEDULE",
                    "NAMESPACE",
                    "BACKUPLOCATION",
                    "CRON",
                    "PAUSED",
                    "PHASE",
                    "INTERVAL",
                    "LAST SUCCESS",
                    "LAST BACKUP",
                ],
                colour,
            );
            for s in &self.schedules {
                let since = |secs: Option<f64>| match secs {
                    Some(s) => format!("{} ago", output::human_duration(s as i64)),
                    None => "never".into(),
                };
                t.row(vec![
                    cell(&s.name),
                    cell(&s.namespace),
                    cell(&s.backup_location),
                    cell(&s.cron),
                    s.paused.to_string(),
                    s.phase.to_string(),
                    s.interval_seconds
                        .map(|i| output::human_duration(i as i64))
                        .unwrap_or_else(|| "-".into()),
                    since(s.seconds_since_last_success),
                    s.last_backup_outcome.unwrap_or("-").to_string(),
                ]);
            }
            out.push_str(&t.render());
            for s in self.schedules.iter().filter(|s| !s.problem.is_empty()) {
                out.push_str(&format!(
                    "  {} cannot run: {}\n",
                    cell(&s.name),
                    output::text(&s.problem)
                ));
            }
        }

        out.push_str("\nRESTORE STATUS\n");
        let r = &self.restore_status;
        let c = &r.counts;
        out.push_str(&format!(
            "{} restores: {} completed, {} partially failed, {} failed, {} in progress, {} other\n",
            c.total, c.completed, c.partially_failed, c.failed, c.in_progress, c.other
        ));
        if !r.restores.is_empty() {
            let mut t = Table::new(
                &headers(
                    "RESTORE",
                    &["BACKUP", "PHASE", "ERRORS", "WARNINGS", "REASON", "STARTED"],
                    ns,
                ),
                colour,
            );
            for x in &r.restores {
                t.row(row(
                    cell(&x.name),
                    &x.namespace,
                    vec![
                        cell(&x.backup),
                        x.phase.to_string(),
                        count(x.errors),
                        count(x.warnings),
                        cell(x.reason),
                        output::age(self.now, x.started),
                    ],
                    ns,
                ));
            }
            out.push_str(&t.render());
        }

        out.push_str("\nADDON STATUS\n");
        let mut t = Table::new(
            &[
                "COMPONENT",
                "NAMESPACE",
                "AGE",
                "STATUS",
                "PODS",
                "RESTARTS",
                "MEMORY REQUEST",
                "CPU REQUEST",
                "MEMORY LIMIT",
                "CPU LIMIT",
                "LAST TERMINATION",
            ],
            colour,
        );
        let or_dash = |v: Option<f64>, f: fn(f64) -> String| v.map(f).unwrap_or_else(|| "-".into());
        for c in &self.addon_status {
            t.row(vec![
                c.component.to_string(),
                cell(&c.namespace),
                output::age(self.now, c.created),
                c.status.to_string(),
                format!("{}/{}", c.pods_ready, c.pods_desired),
                c.restarts.to_string(),
                or_dash(c.memory_request, quantity::format_bytes),
                or_dash(c.cpu_request, quantity::format_cores),
                or_dash(c.memory_limit, quantity::format_bytes),
                or_dash(c.cpu_limit, quantity::format_cores),
                cell(&c.last_termination_reason),
            ]);
        }
        out.push_str(&t.render());
        for c in &self.components_not_exported {
            let ns = cell(&c.namespace);
            let _ = writeln!(
                out,
                "{} in {ns}: not in the snapshot (it holds no Deployment, DaemonSet or Pod of the \
                 backup center there; add `kubectl -n {ns} get deployments,daemonsets,pods -o yaml`)",
                c.component
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::center::BackupCenter;
    use crate::center::tests::{inventory, now};
    use crate::cli::output::Format;
    use crate::report::StatusReport;
    use serde_json::json;

    fn backup(name: &str, phase: &str) -> serde_json::Value {
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "velero"},
            "spec": {"storageLocation": "default"}, "status": {"phase": phase}})
    }

    /// The row of `vault` in BACKUP OPERATION STATUS, as cells.
    fn counts_row(table: &str, vault: &str) -> Vec<String> {
        let section = table
            .split("BACKUP OPERATION STATUS\n")
            .nth(1)
            .unwrap_or_default();
        let mut lines = section.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect();
        assert_eq!(
            header,
            [
                "BACKUPLOCATION",
                "COMPLETED",
                "PARTIALLYFAILED",
                "FAILED",
                "INPROGRESS",
                "OTHER",
                "TOTAL"
            ]
        );
        lines
            .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
            .find(|cells| cells.first().is_some_and(|c| c == vault))
            .unwrap_or_default()
    }

    #[test]
    fn operation_status_columns_add_up_to_the_total() {
        let mut deleting = backup("old-being-deleted", "Completed");
        deleting["metadata"]["deletionTimestamp"] = json!("2026-11-25T08:00:00Z");
        let inv = inventory(vec![
            json!({"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
                "metadata": {"name": "default", "namespace": "velero"},
                "status": {"phase": "Available"}}),
            backup("done", "Completed"),
            backup("running", "InProgress"),
            backup("odd", "Exploding"),
            deleting,
        ]);
        let center = BackupCenter::new(&inv, now());
        let table = StatusReport::build(&center)
            .render(Format::Table, false)
            .unwrap_or_default();
        let row = counts_row(&table, "default");
        assert_eq!(row[1..], ["1", "0", "0", "1", "2", "4"], "{table}");
    }

    #[test]
    fn restore_table_shows_errors_and_warnings() {
        let restore = json!({"apiVersion": "velero.io/v1", "kind": "Restore",
            "metadata": {"name": "shop-ns-restore", "namespace": "velero"},
            "spec": {"backupName": "shop"},
            "status": {"phase": "PartiallyFailed", "errors": 1, "warnings": 4}});
        let inv = inventory(vec![restore]);
        let center = BackupCenter::new(&inv, now());
        let report = StatusReport::build(&center);
        let row = &report.restore_status.restores[0];
        assert_eq!((row.errors, row.warnings), (Some(1), Some(4)));
        let table = report.render(Format::Table, false).unwrap_or_default();
        let restores = table.split("RESTORE STATUS\n").nth(1).unwrap_or_default();
        let lines: Vec<Vec<&str>> = restores
            .lines()
            .take(3)
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            lines[0].join(" "),
            "1 restores: 0 completed, 1 partially failed, 0 failed, 0 in progress, 0 other"
        );
        assert_eq!(
            lines[1],
            [
                "RESTORE", "BACKUP", "PHASE", "ERRORS", "WARNINGS", "REASON", "STARTED"
            ]
        );
        assert_eq!(
            lines[2][..5],
            ["shop-ns-restore", "shop", "PartiallyFailed", "1", "4"]
        );
    }
}
