//! The `doctor` document: what is broken in the backup center, one finding per root cause, each
//! with the evidence it rests on, the cause and the fix as commands for that very object.
//! Built by `crate::doctor` from the resolved center; rendered by the CLI, served by the web
//! JSON API and counted by `backupcenter_doctor_findings`.

use crate::center::{BackupCenter, Severity};
use crate::model::Timestamp;
use crate::vault::{ProbeResult, VaultKey};
use serde::Serialize;
use std::collections::BTreeMap;

/// An object a finding is about or points at, as `kubectl -n NAMESPACE get KIND NAME` names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// Empty for cluster-scoped facts (the Kubernetes version).
    pub namespace: String,
    pub kind: String,
    pub name: String,
}

impl ObjectRef {
    pub fn new(namespace: &str, kind: &str, name: &str) -> Self {
        ObjectRef {
            namespace: namespace.to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.namespace, self.kind, self.name)
        }
    }
}

/// One observed fact a finding rests on: a field, an event, a pod state, with its time.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// When it was observed or happened; `None` when the object does not say.
    pub time: Option<Timestamp>,
    /// The object the fact was read from.
    pub object: ObjectRef,
    pub fact: String,
}

/// One step of the fix: what to do, and the exact commands for this object (may be none when
/// the step happens in a console).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FixStep {
    pub text: String,
    pub commands: Vec<String>,
}

/// A problem with its root cause. Problems that share a root cause (five tasks failed on one
/// unavailable vault, a task stuck because the server was OOMKilled) are one finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The rule that found it (`backupscope doctor --explain RULE`).
    pub rule: &'static str,
    pub severity: Severity,
    /// The object at the root of the problem.
    pub object: ObjectRef,
    /// One line: what is wrong.
    pub summary: String,
    /// Observed facts, oldest first.
    pub evidence: Vec<Evidence>,
    /// Other objects the same cause broke (failed tasks, starving schedules).
    pub affected: Vec<ObjectRef>,
    /// Why it happened, as far as the evidence shows.
    pub cause: String,
    pub fix: Vec<FixStep>,
}

/// Facts about the cluster that are not backup-center objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterFacts {
    /// `serverVersion.gitVersion` (e.g. `v1.33.3-aliyun.1`), when the source shows it: the live
    /// API server, or a `kubectl version -o json` file in a snapshot.
    pub kubernetes_version: Option<String>,
    /// backupscope's last probe of each vault's bucket (serve's periodic probe, or
    /// `doctor --probe`); empty when none ran.
    #[serde(skip)]
    pub probes: BTreeMap<VaultKey, ProbeResult>,
}

impl ClusterFacts {
    /// Adds probe results, keyed by their vault.
    pub fn with_probes(mut self, probes: impl IntoIterator<Item = ProbeResult>) -> Self {
        for p in probes {
            let key = VaultKey {
                namespace: p.namespace.clone(),
                name: p.backup_location.clone(),
            };
            self.probes.insert(key, p);
        }
        self
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    pub now: Timestamp,
    pub engines: Vec<&'static str>,
    pub kubernetes_version: Option<String>,
    /// Most severe first.
    pub findings: Vec<Finding>,
}

impl DoctorReport {
    pub fn build(center: &BackupCenter, facts: &ClusterFacts) -> DoctorReport {
        DoctorReport {
            now: center.now,
            engines: center.engines().iter().map(|e| e.as_str()).collect(),
            kubernetes_version: facts.kubernetes_version.clone(),
            findings: crate::doctor::diagnose(center, facts),
        }
    }

    /// The most severe finding's severity; `Ok` with no findings.
    pub fn worst(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Ok)
    }

    /// Findings per severity, most severe first, for a one-line total.
    pub fn totals(&self) -> Vec<(Severity, usize)> {
        [Severity::Critical, Severity::Warning, Severity::Unknown]
            .into_iter()
            .map(|s| (s, self.findings.iter().filter(|f| f.severity == s).count()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}
