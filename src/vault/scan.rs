//! The scan: what the bucket really holds under `backups/`, held against the cluster's tasks
//! for the same vault (velero.md §3.2: `velero-backup.json` is the backup's existence, the
//! tarball its content). Finds artefacts that went missing, backups the cluster does not know,
//! tasks the cluster calls Completed with nothing in the bucket, and phases that disagree.

use super::classify::{ProbeReason, classify, clip};
use super::client::{VaultKey, VaultStore};
use crate::model::{Outcome, TaskPhase, Timestamp};
use futures::StreamExt;
use object_store::ObjectStoreExt;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What a scan can find; [`FindingKind::NAMES`] are the `finding` label's bounded values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// `backups/<name>/` holds files but no `velero-backup.json`: Velero does not see it.
    MissingMetadata,
    /// A finished backup without its resource tarball `<name>.tar.gz`: it cannot be restored.
    MissingTarball,
    /// In the bucket, unknown to the cluster (never synced, or deleted only in the cluster).
    OrphanBackup,
    /// The cluster says Completed/PartiallyFailed; the bucket holds nothing of it.
    MissingArtefacts,
    /// The bucket's `velero-backup.json` and the cluster disagree on the outcome.
    PhaseMismatch,
}

impl FindingKind {
    pub const ALL: [FindingKind; 5] = [
        FindingKind::MissingMetadata,
        FindingKind::MissingTarball,
        FindingKind::OrphanBackup,
        FindingKind::MissingArtefacts,
        FindingKind::PhaseMismatch,
    ];
    pub const NAMES: &'static [&'static str] = &[
        "missing_metadata",
        "missing_tarball",
        "orphan_backup",
        "missing_artefacts",
        "phase_mismatch",
    ];
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub kind: FindingKind,
    pub backup: String,
    /// The task's phase in the cluster; empty when the cluster does not know it.
    pub cluster_phase: String,
    /// `status.phase` of the bucket's `velero-backup.json`; empty when it is missing.
    pub bucket_phase: String,
    pub detail: String,
}

/// One cluster task on the scanned vault.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterTask {
    pub name: String,
    pub phase: TaskPhase,
    pub raw_phase: String,
}

impl ClusterTask {
    /// The cluster's tasks on `vault` (same namespace, naming the vault).
    pub fn on_vault(
        center: &crate::center::BackupCenter,
        vault: &crate::model::Vault,
    ) -> Vec<ClusterTask> {
        center
            .tasks()
            .filter(|t| t.namespace == vault.namespace && t.vault == vault.name)
            .map(|t| ClusterTask {
                name: t.name.to_string(),
                phase: t.phase,
                raw_phase: t.raw_phase.to_string(),
            })
            .collect()
    }
}

/// One backup folder in the bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketBackup {
    pub name: String,
    pub metadata: bool,
    pub tarball: bool,
    pub logs: bool,
    pub results: bool,
    pub objects: usize,
    pub bytes: u64,
    /// `status.phase` of its `velero-backup.json`.
    pub phase: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanResult {
    pub namespace: String,
    pub backup_location: String,
    pub location: String,
    pub at: Timestamp,
    pub duration_seconds: f64,
    /// Why the scan could not list the bucket; the findings are then empty.
    pub error: Option<ScanError>,
    pub backups: Vec<BucketBackup>,
    pub cluster_tasks: usize,
    pub findings: Vec<Finding>,
    /// Findings by kind, every kind present (0 when none).
    pub counts: BTreeMap<&'static str, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanError {
    pub reason: ProbeReason,
    pub code: String,
    pub message: String,
}

impl ScanResult {
    /// A vault whose bucket could not be opened: nothing was listed.
    pub fn not_opened(key: &VaultKey, tasks: usize, error: &super::client::OpenError) -> Self {
        ScanResult {
            namespace: key.namespace.clone(),
            backup_location: key.name.clone(),
            location: String::new(),
            at: Timestamp::now(),
            duration_seconds: 0.0,
            error: Some(ScanError {
                reason: error.reason(),
                code: String::new(),
                message: clip(&error.to_string()),
            }),
            backups: Vec::new(),
            cluster_tasks: tasks,
            findings: Vec::new(),
            counts: FindingKind::ALL.iter().map(|k| (k.as_str(), 0)).collect(),
        }
    }
}

/// Largest `velero-backup.json` read (real ones are a few KiB; a bigger file is not one).
const METADATA_MAX: u64 = 8 << 20;
/// `velero-backup.json` files read at once.
const READ_CONCURRENCY: usize = 8;

/// Scans one vault; the whole scan is bounded by `timeout`.
pub async fn scan(
    key: &VaultKey,
    store: &VaultStore,
    tasks: &[ClusterTask],
    timeout: Duration,
) -> ScanResult {
    let started = Instant::now();
    let mut result = ScanResult {
        namespace: key.namespace.clone(),
        backup_location: key.name.clone(),
        location: store.location.clone(),
        at: Timestamp::now(),
        duration_seconds: 0.0,
        error: None,
        backups: Vec::new(),
        cluster_tasks: tasks.len(),
        findings: Vec::new(),
        counts: FindingKind::ALL.iter().map(|k| (k.as_str(), 0)).collect(),
    };
    match tokio::time::timeout(timeout, read_bucket(store)).await {
        Err(_) => {
            result.error = Some(ScanError {
                reason: ProbeReason::Timeout,
                code: String::new(),
                message: format!("the scan did not finish within {}s", timeout.as_secs_f64()),
            });
        }
        Ok(Err(e)) => {
            let f = classify(&e);
            result.error = Some(ScanError {
                reason: f.reason,
                code: f.code,
                message: f.message,
            });
        }
        Ok(Ok(backups)) => {
            result.findings = compare(&backups, tasks);
            for f in &result.findings {
                *result.counts.entry(f.kind.as_str()).or_default() += 1;
            }
            result.backups = backups;
        }
    }
    result.duration_seconds = started.elapsed().as_secs_f64();
    result
}

/// Lists `backups/` once (recursively) and reads each backup's `velero-backup.json`.
async fn read_bucket(store: &VaultStore) -> object_store::Result<Vec<BucketBackup>> {
    let root = store.path(&["backups"]);
    let depth = root.parts().count();
    let mut by_name: BTreeMap<String, BucketBackup> = BTreeMap::new();
    let mut listing = store.store.list(Some(&root));
    while let Some(meta) = listing.next().await {
        let meta = meta?;
        let parts: Vec<String> = meta
            .location
            .parts()
            .map(|p| p.as_ref().to_string())
            .collect();
        // backups/<name>/<file>; anything deeper or shallower is not Velero's.
        let [name, file] = &parts[depth..] else {
            continue;
        };
        let b = by_name.entry(name.clone()).or_insert_with(|| BucketBackup {
            name: name.clone(),
            ..Default::default()
        });
        b.objects += 1;
        b.bytes += meta.size;
        if file == "velero-backup.json" {
            b.metadata = true;
        } else if *file == format!("{name}.tar.gz") {
            b.tarball = true;
        } else if *file == format!("{name}-logs.gz") {
            b.logs = true;
        } else if *file == format!("{name}-results.gz") {
            b.results = true;
        }
    }
    let reads = by_name
        .values()
        .filter(|b| b.metadata)
        .map(|b| {
            let path = store.path(&["backups", &b.name, "velero-backup.json"]);
            let name = b.name.clone();
            async move { (name, read_phase(store, &path).await) }
        })
        .collect::<Vec<_>>();
    let phases: Vec<(String, object_store::Result<String>)> = futures::stream::iter(reads)
        .buffer_unordered(READ_CONCURRENCY)
        .collect()
        .await;
    for (name, phase) in phases {
        if let Some(b) = by_name.get_mut(&name) {
            b.phase = phase?;
        }
    }
    Ok(by_name.into_values().collect())
}

/// `status.phase` of a `velero-backup.json`; unreadable JSON reads as an empty phase.
async fn read_phase(
    store: &VaultStore,
    path: &object_store::path::Path,
) -> object_store::Result<String> {
    let got = store.store.get(path).await?;
    if got.meta.size > METADATA_MAX {
        return Ok(String::new());
    }
    let bytes = got.bytes().await?;
    let phase = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| {
            v.pointer("/status/phase")
                .and_then(|p| p.as_str())
                .map(clip)
        })
        .unwrap_or_default();
    Ok(phase)
}

/// Outcomes after which Velero has uploaded the tarball.
fn has_content(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Completed | Outcome::PartiallyFailed)
}

/// The findings, in backup-name order.
pub fn compare(backups: &[BucketBackup], tasks: &[ClusterTask]) -> Vec<Finding> {
    let known: BTreeMap<&str, &ClusterTask> = tasks.iter().map(|t| (t.name.as_str(), t)).collect();
    let in_bucket: BTreeMap<&str, &BucketBackup> =
        backups.iter().map(|b| (b.name.as_str(), b)).collect();
    let mut out = Vec::new();
    for b in backups {
        let task = known.get(b.name.as_str());
        let cluster_phase = task.map(|t| t.raw_phase.clone()).unwrap_or_default();
        let finding = |kind, detail: String| Finding {
            kind,
            backup: b.name.clone(),
            cluster_phase: cluster_phase.clone(),
            bucket_phase: b.phase.clone(),
            detail,
        };
        if !b.metadata {
            out.push(finding(
                FindingKind::MissingMetadata,
                format!("backups/{}/ holds {} files but no velero-backup.json; Velero does not see this backup", b.name, b.objects),
            ));
        }
        let bucket_outcome = (!b.phase.is_empty()).then(|| TaskPhase::parse(&b.phase).outcome());
        let finished = bucket_outcome
            .or_else(|| task.map(|t| t.phase.outcome()))
            .is_some_and(has_content);
        if !b.tarball && finished {
            out.push(finding(
                FindingKind::MissingTarball,
                format!(
                    "backups/{0}/{0}.tar.gz is missing: this backup cannot be restored",
                    b.name
                ),
            ));
        }
        match task {
            None => out.push(finding(
                FindingKind::OrphanBackup,
                "in the bucket but not in the cluster (not synced yet, or deleted in the cluster only)".into(),
            )),
            Some(t) => {
                if let Some(bo) = bucket_outcome
                    && t.phase.is_terminal()
                    && bo != t.phase.outcome()
                {
                    out.push(finding(
                        FindingKind::PhaseMismatch,
                        format!(
                            "the cluster says {}, the bucket's velero-backup.json says {}",
                            t.raw_phase, b.phase
                        ),
                    ));
                }
            }
        }
    }
    for t in tasks {
        if has_content(t.phase.outcome()) && !in_bucket.contains_key(t.name.as_str()) {
            out.push(Finding {
                kind: FindingKind::MissingArtefacts,
                backup: t.name.clone(),
                cluster_phase: t.raw_phase.clone(),
                bucket_phase: String::new(),
                detail: format!(
                    "the cluster says {}, but backups/{}/ is empty or absent",
                    t.raw_phase, t.name
                ),
            });
        }
    }
    out.sort_by(|a, b| (&a.backup, a.kind).cmp(&(&b.backup, b.kind)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str, phase: &str) -> ClusterTask {
        ClusterTask {
            name: name.into(),
            phase: TaskPhase::parse(phase),
            raw_phase: phase.into(),
        }
    }

    fn backup(name: &str, phase: &str, metadata: bool, tarball: bool) -> BucketBackup {
        BucketBackup {
            name: name.into(),
            metadata,
            tarball,
            objects: 1,
            phase: phase.into(),
            ..Default::default()
        }
    }

    fn kinds(f: &[Finding]) -> Vec<(&str, FindingKind)> {
        f.iter().map(|f| (f.backup.as_str(), f.kind)).collect()
    }

    #[test]
    fn a_consistent_vault_has_no_findings() {
        let b = [
            backup("a", "Completed", true, true),
            backup("f", "Failed", true, false),
        ];
        let t = [
            task("a", "Completed"),
            task("f", "Failed"),
            task("run", "InProgress"),
        ];
        assert_eq!(compare(&b, &t), vec![]);
    }

    #[test]
    fn each_kind_is_found() {
        let b = [
            backup("gone-tar", "Completed", true, false),
            backup("no-json", "", false, true),
            backup("orphan", "Completed", true, true),
            backup("mismatch", "PartiallyFailed", true, true),
        ];
        let t = [
            task("gone-tar", "Completed"),
            task("no-json", "Completed"),
            task("mismatch", "Completed"),
            task("absent", "Completed"),
            task("absent-failed", "Failed"),
        ];
        assert_eq!(
            kinds(&compare(&b, &t)),
            vec![
                ("absent", FindingKind::MissingArtefacts),
                ("gone-tar", FindingKind::MissingTarball),
                ("mismatch", FindingKind::PhaseMismatch),
                ("no-json", FindingKind::MissingMetadata),
                ("orphan", FindingKind::OrphanBackup),
            ]
        );
    }

    #[test]
    fn unfinished_tasks_never_disagree() {
        // Velero uploads velero-backup.json again as it finalizes; the cluster may lag.
        let b = [backup("x", "Completed", true, true)];
        assert_eq!(compare(&b, &[task("x", "Finalizing")]), vec![]);
    }

    #[test]
    fn names_follow_the_enum() {
        for (k, name) in FindingKind::ALL.iter().zip(FindingKind::NAMES) {
            assert_eq!(k.as_str(), *name);
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(name));
        }
    }
}
