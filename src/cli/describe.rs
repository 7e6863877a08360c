//! `backupscope describe backuplocation|backup NAME`: renders the describe documents of
//! `crate::report::describe` the way `kubectl describe` lays them out.

use super::output::{self, Format, cell};
use crate::model::{TaskPhase, Timestamp};
use crate::report::{BackupDescription, EventRow, VaultDescription};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A backup vault (ACK BackupLocation, Velero BackupStorageLocation); alias: bsl, vault.
    #[value(
        alias = "backuplocations",
        alias = "bsl",
        alias = "vault",
        alias = "backupstoragelocation"
    )]
    Backuplocation,
    /// A backup task (ACK ApplicationBackup, Velero Backup).
    #[value(alias = "backups", alias = "applicationbackup")]
    Backup,
}

fn when(now: Timestamp, t: Option<Timestamp>) -> String {
    match t {
        Some(t) => format!("{} ({} ago)", t, output::age(now, Some(t))),
        None => "<none>".into(),
    }
}

fn field(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "{:<22}{}", format!("{label}:"), value);
}

fn events_section(out: &mut String, now: Timestamp, events: &[EventRow]) {
    if events.is_empty() {
        out.push_str("Events:               <none>\n");
        return;
    }
    out.push_str("Events:\n");
    let mut t = output::Table::new(
        &["  TYPE", "REASON", "AGE", "COUNT", "FROM", "MESSAGE"],
        false,
    );
    for e in events {
        t.row(vec![
            format!("  {}", cell(&e.event_type)),
            cell(&e.reason),
            output::age(now, e.last_timestamp),
            e.count.to_string(),
            cell(&e.source),
            e.message
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        ]);
    }
    out.push_str(&t.render());
}

impl VaultDescription {
    pub fn render(&self, now: Timestamp, format: Format) -> anyhow::Result<String> {
        if format != Format::Table {
            return output::serialize(self, format);
        }
        let v = &self.vault;
        let mut out = String::new();
        field(&mut out, "Name", &cell(&v.name));
        field(&mut out, "Namespace", &cell(&v.namespace));
        field(&mut out, "Engine", v.engine.as_str());
        field(&mut out, "Provider", &cell(&v.provider));
        field(&mut out, "Bucket", &cell(&v.bucket));
        field(&mut out, "Prefix", &cell(&v.prefix));
        field(&mut out, "Region", &cell(&v.region));
        if !v.network_policy.is_empty() {
            field(&mut out, "Network Policy", &cell(&v.network_policy));
        }
        field(&mut out, "Access Mode", &cell(&v.access_mode));
        field(
            &mut out,
            "Default",
            if v.default { "true" } else { "false" },
        );
        let phase = if v.phase.as_str() == v.raw_phase || v.raw_phase.is_empty() {
            v.phase.to_string()
        } else {
            format!("{} (raw: {})", v.phase, cell(&v.raw_phase))
        };
        field(&mut out, "Phase", &phase);
        field(&mut out, "Last Validated", &when(now, v.last_validation));
        field(&mut out, "Message", &output::text(&v.message));
        if !v.credential_secret.is_empty() {
            field(&mut out, "Credential Secret", &cell(&v.credential_secret));
        }
        if let Some(p) = &self.twin_phase {
            field(&mut out, "Velero Twin Phase", &cell(p));
        }
        let counts: Vec<String> = self
            .task_counts
            .groups()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(group, n)| format!("{group} {n}"))
            .collect();
        field(
            &mut out,
            "Backup Tasks",
            &format!("{} ({})", self.task_counts.total, counts.join(", ")),
        );
        if !self.recent_tasks.is_empty() {
            out.push_str("Recent Tasks:\n");
            let mut t = output::Table::new(
                &["  NAME", "PHASE", "FROMSCHEDULE", "STARTED", "REASON"],
                false,
            );
            for task in &self.recent_tasks {
                t.row(vec![
                    format!("  {}", cell(&task.name)),
                    task.phase.to_string(),
                    cell(&task.from_schedule),
                    output::age(now, task.started),
                    cell(task.reason),
                ]);
            }
            out.push_str(&t.render());
        }
        if let Some(p) = &self.probe {
            out.push_str(&crate::report::probe::describe_lines(p));
        }
        if let Some(s) = &self.scan {
            out.push_str(&crate::report::probe::describe_scan_lines(s));
        }
        events_section(&mut out, now, &self.events);
        Ok(out)
    }
}

impl BackupDescription {
    pub fn render(&self, now: Timestamp, format: Format) -> anyhow::Result<String> {
        if format != Format::Table {
            return output::serialize(self, format);
        }
        let mut out = String::new();
        field(&mut out, "Name", &cell(&self.name));
        field(&mut out, "Namespace", &cell(&self.namespace));
        field(&mut out, "Engine", self.engine);
        let phase = if self.phase == self.raw_phase || self.raw_phase.is_empty() {
            self.phase.to_string()
        } else {
            format!("{} (raw: {})", self.phase, cell(&self.raw_phase))
        };
        field(&mut out, "Phase", &phase);
        let vault_phase = self.backup_location_phase.unwrap_or("not found");
        field(
            &mut out,
            "Backup Location",
            &format!("{} ({vault_phase})", cell(&self.backup_location)),
        );
        field(&mut out, "From Schedule", &cell(&self.from_schedule));
        field(&mut out, "Backup Type", self.backup_type);
        field(&mut out, "Data Type", &cell(self.data_type));
        field(
            &mut out,
            "Included Namespaces",
            &cell(&self.included_namespaces.join(", ")),
        );
        field(&mut out, "TTL", &cell(&self.ttl));
        field(&mut out, "Created", &when(now, self.created));
        field(&mut out, "Started", &when(now, self.started));
        field(&mut out, "Completed", &when(now, self.completed));
        if let Some(s) = self.running_seconds {
            field(&mut out, "Running For", &output::human_duration(s as i64));
        }
        let count = |c: Option<u64>| c.map(|n| n.to_string()).unwrap_or_else(|| "<none>".into());
        field(&mut out, "Errors", &count(self.errors));
        field(&mut out, "Warnings", &count(self.warnings));
        if !self.reason.is_empty() {
            field(&mut out, "Reason", self.reason);
        }
        field(&mut out, "Message", &output::text(&self.message));
        if let Some(t) = &self.twin {
            field(
                &mut out,
                "Velero Backup",
                &format!(
                    "phase {}, errors {}, warnings {}",
                    cell(&t.phase),
                    count(t.errors),
                    count(t.warnings)
                ),
            );
            if !t.failure_reason.is_empty() {
                field(&mut out, "Velero Failure", &output::text(&t.failure_reason));
            }
        }
        if self.phase == TaskPhase::PartiallyFailed.as_str() && self.engine == "ack" {
            field(
                &mut out,
                "Next Step",
                &format!(
                    "kubectl -n {ns} exec deploy/csdr-velero -c velero -- ./velero describe backup {n} --details",
                    ns = cell(&self.namespace),
                    n = cell(&self.name)
                ),
            );
        }
        events_section(&mut out, now, &self.events);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::center::BackupCenter;
    use crate::center::tests::{inventory, now};
    use crate::cli::output::Format;
    use crate::report::describe::describe_vault;
    use crate::report::status;
    use serde_json::json;

    #[test]
    fn a_vault_shows_its_access_mode_and_whether_it_is_the_default() {
        let inv = inventory(vec![
            json!({"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
                "metadata": {"name": "dr-readonly", "namespace": "velero"},
                "spec": {"provider": "aws", "accessMode": "ReadOnly", "default": true,
                         "objectStorage": {"bucket": "dr"}},
                "status": {"phase": "Available"}}),
        ]);
        let center = BackupCenter::new(&inv, now());
        let text = describe_vault(&center, "dr-readonly", None)
            .ok()
            .and_then(|d| d.render(now(), Format::Table).ok())
            .unwrap_or_default();
        assert!(
            text.contains("\nAccess Mode:          ReadOnly\n"),
            "{text}"
        );
        assert!(text.contains("\nDefault:              true\n"), "{text}");
        let rows = status::locations(&center);
        assert_eq!(
            (rows[0].access_mode.as_str(), rows[0].default),
            ("ReadOnly", true)
        );
    }
}
