//! Vault rules: an Unavailable vault classified by the controller's message (ACK FAQ #10,
//! Velero's BSL validation), with the tasks and schedules it broke; a vault never validated.

use super::commands::{self, word};
use super::{Diagnosis, evidence, schedules, span, vault_kind};
use crate::center::{BackupCenter, ScheduleRuns, Severity};
use crate::model::{
    BackupTask, Engine, ReasonClass, Schedule, TaskPhase, Timestamp, Vault, VaultPhase,
};
use crate::report::doctor::{Finding, FixStep, ObjectRef};
use std::collections::HashMap;

/// Why the object store refused the vault, from the controller's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 403; `bucket_not_owned` when OSS says the bucket belongs to another account.
    AccessDenied {
        bucket_not_owned: bool,
    },
    NoSuchBucket,
    InvalidLayout,
    InternalCrossRegion,
    Network,
    Other,
}

impl Refusal {
    pub fn rule(self) -> &'static str {
        match self {
            Refusal::AccessDenied { .. } => "vault-access-denied",
            Refusal::NoSuchBucket => "vault-no-such-bucket",
            Refusal::InvalidLayout => "vault-invalid-layout",
            Refusal::InternalCrossRegion => "vault-internal-cross-region",
            Refusal::Network => "vault-network",
            Refusal::Other => "vault-unavailable",
        }
    }
}

/// Classifies an Unavailable vault's message; `cross_region` is true for an ACK vault on the
/// internal network whose region is not the cluster's.
pub fn classify(message: &str, cross_region: bool) -> Refusal {
    let m = message.to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if has(&["invalid top-level directories"]) {
        Refusal::InvalidLayout
    } else if has(&["nosuchbucket", "bucket does not exist", "no such bucket"]) {
        Refusal::NoSuchBucket
    } else if has(&[
        "accessdenied",
        "access denied",
        "statuscode=403",
        "statuscode: 403",
        "forbidden",
        "invalidaccesskeyid",
        "signaturedoesnotmatch",
        "does not belong to you",
    ]) {
        Refusal::AccessDenied {
            bucket_not_owned: m.contains("does not belong to you"),
        }
    } else if cross_region {
        Refusal::InternalCrossRegion
    } else if has(&[
        "timeout",
        "timed out",
        "dial tcp",
        "no such host",
        "connection refused",
        "network is unreachable",
        "context deadline exceeded",
        "connection reset",
    ]) {
        Refusal::Network
    } else {
        Refusal::Other
    }
}

/// The controller's words on the vault: its message, its velero twin's, its newest event.
fn vault_message(d: &Diagnosis, vault: &Vault, object: &ObjectRef) -> String {
    if !vault.message.is_empty() {
        return vault.message.clone();
    }
    if let Some(twin) = d.center.vault_twin(vault).filter(|t| !t.message.is_empty()) {
        return twin.message.clone();
    }
    d.events(object)
        .last()
        .map(|e| e.fact.clone())
        .unwrap_or_default()
}

pub(crate) fn vault_ref(vault: &Vault) -> ObjectRef {
    ObjectRef::new(&vault.namespace, vault_kind(vault.engine), &vault.name)
}

pub fn unavailable(d: &mut Diagnosis) {
    let region = super::ack::cluster_region(d.center);
    let runs = d.center.schedule_runs();
    let vaults: Vec<&Vault> = d
        .center
        .vaults()
        .filter(|v| v.phase == VaultPhase::Unavailable)
        .collect();
    // Grouped once: scanning every task and schedule per vault is quadratic at fleet scale
    // (a vault per 100 tasks: 5 s per render at 1M tasks before this).
    let mut tasks_of: HashMap<(&str, &str), Vec<&BackupTask>> = HashMap::new();
    for task in d.flagged.iter().copied().filter(|t| t.phase.is_failure()) {
        tasks_of
            .entry((task.namespace.as_str(), task.vault.as_str()))
            .or_default()
            .push(task);
    }
    let mut schedules_of: HashMap<(&str, &str), Vec<&Schedule>> = HashMap::new();
    for s in d.center.schedules() {
        schedules_of
            .entry((s.namespace.as_str(), s.vault.as_str()))
            .or_default()
            .push(s);
    }
    for vault in vaults {
        let key = (vault.namespace.as_str(), vault.name.as_str());
        let on_vault = Targeting {
            tasks: tasks_of.get(&key).map_or(&[], Vec::as_slice),
            schedules: schedules_of.get(&key).map_or(&[], Vec::as_slice),
            runs: &runs,
        };
        let object = vault_ref(vault);
        let message = vault_message(d, vault, &object);
        let cross_region = vault.engine == Engine::Ack
            && vault.network_policy == "internal"
            && region
                .as_deref()
                .is_some_and(|r| !vault.region.is_empty() && r != vault.region);
        let refusal = classify(&message, cross_region);
        let finding = unavailable_finding(
            d,
            vault,
            object,
            &message,
            refusal,
            region.as_deref(),
            &on_vault,
        );
        d.push(finding);
    }
}

/// The failed tasks and the schedules that name one vault, and every schedule's runs.
struct Targeting<'a, 'c> {
    tasks: &'a [&'c BackupTask],
    schedules: &'a [&'c Schedule],
    runs: &'a HashMap<(Engine, &'c str, &'c str), ScheduleRuns<'c>>,
}

fn unavailable_finding(
    d: &Diagnosis,
    vault: &Vault,
    object: ObjectRef,
    message: &str,
    refusal: Refusal,
    cluster_region: Option<&str>,
    on_vault: &Targeting,
) -> Finding {
    let runs = on_vault.runs;
    let c = d.center;
    let mut ev = vec![evidence(
        vault.last_validation,
        &object,
        format!(
            "phase Unavailable (last validated {}); message: {}",
            vault
                .last_validation
                .map_or("never".to_string(), |t| t.to_string()),
            if message.is_empty() {
                "<none>"
            } else {
                message
            }
        ),
    )];
    if let Some(twin) = c
        .vault_twin(vault)
        .filter(|t| !t.message.is_empty() && t.message != message)
    {
        let twin_ref = ObjectRef::new(&twin.namespace, "BackupStorageLocation", &twin.name);
        ev.push(evidence(
            twin.last_validation,
            &twin_ref,
            format!("velero twin phase {}: {}", twin.raw_phase, twin.message),
        ));
    }
    ev.extend(d.events(&object));
    if let Some(p) = super::probes::last_probe(d, vault) {
        ev.push(super::probes::probe_evidence(p, &object));
    }

    // Tasks that failed because of the vault.
    let mut affected = Vec::new();
    let mut failed_tasks = Vec::new();
    for task in on_vault.tasks.iter().copied() {
        let view = c.view(task);
        let reason = c.reason(&view);
        if !matches!(
            reason,
            ReasonClass::VaultError | ReasonClass::StorageError | ReasonClass::ValidationError
        ) {
            continue;
        }
        let r = ObjectRef::new(&task.namespace, super::backup_kind(task.engine), &task.name);
        ev.push(evidence(
            task.completed.or(task.started).or(task.created),
            &r,
            format!(
                "{} ({reason}): {}",
                task.shown_phase(),
                c.failure_message(&view)
            ),
        ));
        failed_tasks.push(task.name.clone());
        affected.push(r);
    }
    // Schedules that target it: every run fails until the vault is fixed.
    let mut starving = Vec::new();
    let mut states = Vec::new();
    for s in on_vault
        .schedules
        .iter()
        .copied()
        // A schedule that cannot run at all has a problem of its own (schedule rules).
        .filter(|s| c.schedule_can_run(s))
    {
        let r = ObjectRef::new(&s.namespace, super::schedule_kind(s.engine), &s.name);
        let run = runs
            .get(&(s.engine, s.namespace.as_str(), s.name.as_str()))
            .copied()
            .unwrap_or_default();
        let rpo = schedules::rpo(c, s, &run);
        ev.push(evidence(rpo.last_success, &r, rpo.describe(s.paused)));
        states.push(match (rpo.missed, s.paused, rpo.age) {
            (true, paused, Some(age)) => format!(
                "{}{} has no good backup for {} (RPO missed)",
                s.name,
                if paused { " (paused)" } else { "" },
                span(age)
            ),
            (_, true, _) => format!("{} (paused) cannot back up", s.name),
            _ => format!("{} cannot back up", s.name),
        });
        starving.push(s.name.clone());
        affected.push(r);
    }

    let mut summary = format!(
        "vault {} is Unavailable ({})",
        vault.name,
        match refusal {
            Refusal::AccessDenied {
                bucket_not_owned: true,
            } => "403: the bucket belongs to another account",
            Refusal::AccessDenied { .. } => "403 access denied",
            Refusal::NoSuchBucket => "the bucket does not exist",
            Refusal::InvalidLayout => "invalid top-level folders under the prefix",
            Refusal::InternalCrossRegion => "internal OSS endpoint in another region",
            Refusal::Network => "the object store cannot be reached",
            Refusal::Other => "reason not recognised",
        }
    );
    if !failed_tasks.is_empty() {
        summary.push_str(&format!("; {} task(s) failed on it", failed_tasks.len()));
    }
    if !states.is_empty() {
        summary.push_str(&format!("; schedule {}", states.join(", schedule ")));
    }
    let (cause, fix) = cause_and_fix(vault, refusal, cluster_region, &starving);
    Finding {
        rule: refusal.rule(),
        severity: Severity::Critical,
        object,
        summary,
        evidence: ev,
        affected,
        cause,
        fix,
    }
}

fn cause_and_fix(
    vault: &Vault,
    refusal: Refusal,
    cluster_region: Option<&str>,
    schedules: &[String],
) -> (String, Vec<FixStep>) {
    let look = FixStep {
        text: "Read the controller's message on the vault.".into(),
        commands: vec![commands::describe_vault(vault)],
    };
    let bucket = if vault.bucket.is_empty() {
        "<bucket>".to_string()
    } else {
        vault.bucket.clone()
    };
    let ack = vault.engine == Engine::Ack;
    let then_schedules = if schedules.is_empty() {
        String::new()
    } else {
        format!(" and move schedule(s) {} to it", schedules.join(", "))
    };
    let (cause, steps): (String, Vec<FixStep>) = match refusal {
        Refusal::AccessDenied {
            bucket_not_owned: true,
        } => (
            format!(
                "OSS answers 403 AccessDenied \"The bucket you access does not belong to you\": \
                 bucket {bucket} now belongs to another account (deleted and its name taken). A \
                 vault is bound to its bucket and cannot be modified."
            ),
            vec![
                look,
                FixStep {
                    text: format!(
                        "Create a bucket your account owns{} and a new vault with a new name on \
                         it{then_schedules}; the name {} cannot be reused.",
                        if ack { " (named cnfs-oss-* on managed clusters)" } else { "" },
                        vault.name
                    ),
                    commands: vec![],
                },
            ],
        ),
        Refusal::AccessDenied { .. } if ack => (
            format!(
                "OSS refuses the cluster's requests to bucket {bucket} (403): the cluster has no \
                 OSS permission on it (ACK FAQ #10)."
            ),
            vec![
                look,
                FixStep {
                    text: "On managed clusters use a cnfs-oss-* bucket and check that the role \
                           AliyunCSManagedBackupRestoreRole is authorised (its token Secret \
                           addon.aliyuncsmanagedbackuprestorerole.token exists in kube-system); \
                           on dedicated and registered clusters grant the OSS RAM permissions."
                        .into(),
                    commands: vec![
                        "kubectl -n kube-system get secret addon.aliyuncsmanagedbackuprestorerole.token"
                            .into(),
                    ],
                },
            ],
        ),
        Refusal::AccessDenied { .. } => (
            format!(
                "The object store refuses the credentials for bucket {bucket} (403): the key was \
                 deactivated or rotated, or its policy no longer allows the bucket."
            ),
            vec![
                look,
                FixStep {
                    text: format!(
                        "Update the credentials in Secret {}/{} (the key the location names) or \
                         the key's policy; Velero revalidates the location within a minute.",
                        vault.namespace,
                        if vault.credential_secret.is_empty() {
                            "<credentials secret>"
                        } else {
                            &vault.credential_secret
                        }
                    ),
                    commands: vec![format!(
                        "kubectl -n {} describe backupstoragelocation {}",
                        word(&vault.namespace),
                        word(&vault.name)
                    )],
                },
            ],
        ),
        Refusal::NoSuchBucket => (
            format!("Bucket {bucket} does not exist (deleted, or the name is wrong)."),
            vec![
                look,
                FixStep {
                    text: format!(
                        "Create bucket {bucket}{} again{}.",
                        if vault.region.is_empty() {
                            String::new()
                        } else {
                            format!(" in {}", vault.region)
                        },
                        if ack {
                            ", or create a new vault with a new name on an existing bucket"
                        } else {
                            ""
                        }
                    ),
                    commands: vec![],
                },
            ],
        ),
        Refusal::InvalidLayout => (
            format!(
                "Bucket {bucket} holds folders under prefix {:?} that are not Velero's (backups, \
                 restores, metadata, plugins, kopia, restic), so Velero refuses to use it.",
                vault.prefix
            ),
            vec![
                look,
                FixStep {
                    text: "Move the folders the message lists out of the prefix, or give the \
                           location a prefix of its own."
                        .into(),
                    commands: vec![],
                },
            ],
        ),
        Refusal::InternalCrossRegion | Refusal::Network if ack && vault.network_policy == "internal" => (
            match (refusal, cluster_region) {
                (Refusal::InternalCrossRegion, Some(region)) => format!(
                    "The vault uses the internal OSS endpoint, but its bucket is in {} and the \
                     cluster in {region}: the internal endpoint is only reachable from the \
                     bucket's region.",
                    vault.region
                ),
                _ => "The internal OSS endpoint cannot be reached from the cluster (another \
                      region, an Edge cluster, or a registered cluster without a route to the \
                      OSS internal network)."
                    .to_string(),
            },
            vec![
                look,
                FixStep {
                    text: "Switch the vault to the public network, on the BackupLocation and its \
                           velero BackupStorageLocation (ACK FAQ #10)."
                        .into(),
                    commands: commands::ack_vault_to_public(vault),
                },
            ],
        ),
        Refusal::InternalCrossRegion | Refusal::Network => (
            "The object store cannot be reached from the cluster.".to_string(),
            vec![
                look,
                FixStep {
                    text: "Check the endpoint, DNS, proxy and network policies between the backup \
                           server and the object store."
                        .into(),
                    commands: vec![],
                },
            ],
        ),
        Refusal::Other => (
            "The controller marked the vault Unavailable for a reason the catalogue does not name."
                .to_string(),
            vec![look],
        ),
    };
    (cause, steps)
}

/// How long a vault may go without validation before that is a finding: ACK checks about every
/// 5 minutes, Velero every minute by default.
const VALIDATION_GRACE_SECONDS: f64 = 15.0 * 60.0;

pub fn never_validated(d: &mut Diagnosis) {
    let c = d.center;
    let mut found = Vec::new();
    // The newest Completed task per vault, read only when some vault lacks a validation.
    let mut completed: Option<HashMap<(&str, &str), Timestamp>> = None;
    for vault in c.vaults() {
        if vault.last_validation.is_some() || vault.phase == VaultPhase::Unavailable {
            continue;
        }
        let Some(created) = vault.created else {
            continue;
        };
        let age = c.seconds_since(created);
        if age < VALIDATION_GRACE_SECONDS {
            continue;
        }
        // Velero before 1.5 had no controller that validates a BackupStorageLocation, so its
        // vaults never get a phase: backups that completed on the vault since it was created
        // show it works.
        let completed = completed.get_or_insert_with(|| newest_completed(c));
        if completed
            .get(&(vault.namespace.as_str(), vault.name.as_str()))
            .is_some_and(|at| *at > created)
        {
            continue;
        }
        let object = vault_ref(vault);
        // A failing probe already named it (vault-probe-failing).
        if d.is_claimed(&object) {
            continue;
        }
        let controller = match vault.engine {
            Engine::Ack => format!(
                "kubectl -n {} logs deploy/csdr-controller",
                word(&vault.namespace)
            ),
            Engine::Velero => format!("kubectl -n {} logs deploy/velero", word(&vault.namespace)),
        };
        let mut ev = vec![evidence(
            Some(created),
            &object,
            format!(
                "created {} ago, phase {:?}, no lastValidationTime",
                span(age),
                vault.raw_phase
            ),
        )];
        ev.extend(d.events(&object));
        if let Some(p) = super::probes::last_probe(d, vault) {
            ev.push(super::probes::probe_evidence(p, &object));
        }
        found.push(Finding {
            rule: "vault-never-validated",
            severity: Severity::Warning,
            summary: format!(
                "vault {} was never validated in the {} since it was created",
                vault.name,
                span(age)
            ),
            evidence: ev,
            affected: vec![],
            cause: "The controller never checked the vault: it is not running, or it cannot read \
                    the vault's spec or credentials."
                .into(),
            fix: vec![FixStep {
                text: "Read the vault and the controller's log about it.".into(),
                commands: vec![commands::describe_vault(vault), controller],
            }],
            object,
        });
    }
    d.extend(found);
}

/// When each vault's newest Completed task finished, by (namespace, vault).
fn newest_completed<'a>(c: &BackupCenter<'a>) -> HashMap<(&'a str, &'a str), Timestamp> {
    let mut newest: HashMap<(&str, &str), Timestamp> = HashMap::new();
    for t in c.tasks().filter(|t| t.phase == TaskPhase::Completed) {
        if let Some(at) = t.completed {
            let slot = newest
                .entry((t.namespace.as_str(), t.vault.as_str()))
                .or_insert(at);
            *slot = (*slot).max(at);
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_classify() {
        let ack = "VaultError: backup vault is unavailable: oss: service returned error: StatusCode=403, ErrorCode=AccessDenied, ErrorMessage=\"The bucket you access does not belong to you.\"";
        assert_eq!(
            classify(ack, false),
            Refusal::AccessDenied {
                bucket_not_owned: true
            }
        );
        let velero = "BackupStorageLocation \"offsite-s3\" is unavailable: rpc error: code = Unknown desc = operation error S3: ListObjectsV2, https response error StatusCode: 403, RequestID: X, api error AccessDenied: Access Denied";
        assert_eq!(
            classify(velero, false),
            Refusal::AccessDenied {
                bucket_not_owned: false
            }
        );
        assert_eq!(
            classify(
                "rpc error: NoSuchBucket: The specified bucket does not exist",
                true
            ),
            Refusal::NoSuchBucket
        );
        assert_eq!(
            classify(
                "Backup store contains invalid top-level directories: [foo]",
                false
            ),
            Refusal::InvalidLayout
        );
        assert_eq!(
            classify("dial tcp 100.118.28.1:443: i/o timeout", true),
            Refusal::InternalCrossRegion
        );
        assert_eq!(classify("dial tcp: i/o timeout", false), Refusal::Network);
        assert_eq!(classify("", false), Refusal::Other);
    }
}
