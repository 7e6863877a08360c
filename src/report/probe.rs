//! The `probe` and `scan` documents: backupscope's own check of each vault's bucket
//! (`crate::vault`), for the CLI (`backupscope probe|scan`, `-o json|yaml`) and `describe`.

use crate::cli::output::{self, Format, Table, cell};
use crate::vault::{ProbeResult, ScanResult};
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeReport {
    pub probes: Vec<ProbeResult>,
}

/// The words a result shows in tables (coloured by `center::severity_of_word`).
pub fn verdict(success: bool) -> &'static str {
    if success { "Available" } else { "Unavailable" }
}

fn reason_word(p: &ProbeResult) -> &'static str {
    p.reason.map_or("", |r| r.as_str())
}

impl ProbeReport {
    pub fn render(&self, format: Format, colour: bool) -> anyhow::Result<String> {
        if format != Format::Table {
            return output::serialize(self, format);
        }
        if self.probes.is_empty() {
            return Ok("No backup locations to probe.\n".into());
        }
        let mut t = Table::new(
            &[
                "NAMESPACE",
                "NAME",
                "PROBE",
                "REASON",
                "CODE",
                "DURATION",
                "LOCATION",
                "MESSAGE",
            ],
            colour,
        );
        for p in &self.probes {
            t.row(vec![
                cell(&p.namespace),
                cell(&p.backup_location),
                verdict(p.success).into(),
                cell(reason_word(p)),
                cell(&p.code),
                format!("{:.3}s", p.duration_seconds),
                cell(&p.location),
                output::text(&p.message),
            ]);
        }
        Ok(t.render())
    }
}

/// The probe lines `describe backuplocation` adds.
pub fn describe_lines(p: &ProbeResult) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: &str| {
        let _ = writeln!(out, "{:<22}{}", format!("{label}:"), value);
    };
    let mut summary = verdict(p.success).to_string();
    if let Some(r) = p.reason {
        summary.push_str(&format!(" ({}", r.as_str()));
        if !p.code.is_empty() {
            summary.push_str(&format!(", {}", cell(&p.code)));
        }
        summary.push(')');
    }
    field(
        "Probe",
        &format!("{summary} in {:.3}s at {}", p.duration_seconds, p.at),
    );
    field("Probe Location", &cell(&p.location));
    if !p.folders.is_empty() {
        field("Probe Folders", &cell(&p.folders.join(", ")));
    }
    if !p.message.is_empty() {
        field("Probe Message", &output::text(&p.message));
    }
    if let Some(w) = &p.write {
        let s = match w.failed_step {
            None => "put/get/delete ok".to_string(),
            Some(step) => format!("{step} failed: {}", output::text(&w.message)),
        };
        field("Probe Write", &s);
    }
    out
}

/// The scan lines `describe backuplocation --scan` adds: the summary and each finding.
pub fn describe_scan_lines(s: &ScanResult) -> String {
    let mut out = String::new();
    let summary = match &s.error {
        Some(e) => format!(
            "Failed ({}): {}",
            e.reason.as_str(),
            output::text(&e.message)
        ),
        None => format!(
            "{} backups in the bucket, {} tasks in the cluster, {} findings",
            s.backups.len(),
            s.cluster_tasks,
            s.findings.len()
        ),
    };
    let _ = writeln!(out, "{:<22}{summary}", "Scan:");
    if !s.findings.is_empty() {
        let mut t = Table::new(&["  BACKUP", "FINDING", "CLUSTER", "BUCKET"], false);
        for f in &s.findings {
            t.row(vec![
                format!("  {}", cell(&f.backup)),
                f.kind.as_str().into(),
                cell(&f.cluster_phase),
                cell(&f.bucket_phase),
            ]);
        }
        out.push_str(&t.render());
    }
    out
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanReport {
    pub scans: Vec<ScanResult>,
}

impl ScanReport {
    pub fn render(&self, format: Format, colour: bool) -> anyhow::Result<String> {
        if format != Format::Table {
            return output::serialize(self, format);
        }
        if self.scans.is_empty() {
            return Ok("No backup locations to scan.\n".into());
        }
        let mut out = String::new();
        let mut t = Table::new(
            &[
                "NAMESPACE",
                "NAME",
                "SCAN",
                "IN BUCKET",
                "IN CLUSTER",
                "FINDINGS",
                "LOCATION",
            ],
            colour,
        );
        for s in &self.scans {
            let (word, findings) = match &s.error {
                Some(e) => (
                    "Failed",
                    format!("{}: {}", e.reason.as_str(), cell(&e.message)),
                ),
                None if s.findings.is_empty() => ("Completed", "none".to_string()),
                None => (
                    "PartiallyFailed",
                    s.counts
                        .iter()
                        .filter(|(_, n)| **n > 0)
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            };
            t.row(vec![
                cell(&s.namespace),
                cell(&s.backup_location),
                word.into(),
                s.backups.len().to_string(),
                s.cluster_tasks.to_string(),
                findings,
                cell(&s.location),
            ]);
        }
        out.push_str(&t.render());
        let any = self.scans.iter().any(|s| !s.findings.is_empty());
        if any {
            out.push_str("\nFindings:\n");
            let mut f = Table::new(
                &[
                    "  NAMESPACE",
                    "VAULT",
                    "BACKUP",
                    "FINDING",
                    "CLUSTER",
                    "BUCKET",
                    "DETAIL",
                ],
                false,
            );
            for s in &self.scans {
                for x in &s.findings {
                    f.row(vec![
                        format!("  {}", cell(&s.namespace)),
                        cell(&s.backup_location),
                        cell(&x.backup),
                        x.kind.as_str().into(),
                        cell(&x.cluster_phase),
                        cell(&x.bucket_phase),
                        output::text(&x.detail),
                    ]);
                }
            }
            out.push_str(&f.render());
        }
        Ok(out)
    }
}
