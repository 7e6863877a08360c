//! backupscope's own probe of a vault's bucket (`crate::vault::probe`, from serve's periodic
//! rounds or `doctor --probe`) as doctor evidence: every vault finding shows the last probe,
//! and a vault the cluster does not call Unavailable whose probe fails is a finding of its own.

use super::commands::{self, word};
use super::vaults::vault_ref;
use super::{Diagnosis, evidence};
use crate::center::Severity;
use crate::model::{Vault, VaultPhase};
use crate::report::doctor::{Evidence, Finding, FixStep, ObjectRef};
use crate::vault::{ProbeReason, ProbeResult, VaultKey};

/// The last probe of `vault`, when one ran.
pub fn last_probe<'d>(d: &'d Diagnosis, vault: &Vault) -> Option<&'d ProbeResult> {
    d.facts.probes.get(&VaultKey::of(vault))
}

/// The probe as one evidence line: where it looked, the failure class, the provider's code,
/// how long it took and, with `--probe-write`, how the canary went.
pub fn probe_evidence(p: &ProbeResult, object: &ObjectRef) -> Evidence {
    let location = if p.location.is_empty() {
        String::new()
    } else {
        format!(" of {}", p.location)
    };
    let mut fact = match p.reason {
        None => format!(
            "backupscope probe{location}: the bucket answers (top-level folders: {}) in {:.3}s",
            if p.folders.is_empty() {
                "none".to_string()
            } else {
                p.folders.join(", ")
            },
            p.duration_seconds
        ),
        Some(reason) => format!(
            "backupscope probe{location} failed after {:.3}s: {}{}{}",
            p.duration_seconds,
            reason.as_str(),
            if p.code.is_empty() {
                String::new()
            } else {
                format!(" (provider code {})", p.code)
            },
            if p.message.is_empty() {
                String::new()
            } else {
                format!(": {}", p.message)
            }
        ),
    };
    if let Some(w) = &p.write {
        match w.failed_step {
            None => fact.push_str("; canary put/get/delete ok"),
            Some(step) => fact.push_str(&format!("; canary {step} failed: {}", w.message)),
        }
    }
    // Whole seconds, like the cluster's own times next to it.
    let at = crate::model::Timestamp::from_second(p.at.as_second()).unwrap_or(p.at);
    evidence(Some(at), object, fact)
}

/// The probe command that repeats the check (same options as the run that found it).
fn probe_command(vault: &Vault) -> String {
    format!(
        "backupscope probe {} -n {}",
        word(&vault.name),
        word(&vault.namespace)
    )
}

/// `vault-probe-failing`: the cluster does not call the vault Unavailable, but its bucket fails
/// the probe. Claims the vault (a never-validated vault whose probe fails is reported here).
pub fn failing(d: &mut Diagnosis) {
    let mut found = Vec::new();
    for vault in d.center.vaults() {
        if vault.phase == VaultPhase::Unavailable {
            continue;
        }
        let Some(probe) = last_probe(d, vault).filter(|p| !p.success) else {
            continue;
        };
        let reason = probe.reason.unwrap_or(ProbeReason::Other);
        let object = vault_ref(vault);
        let mut ev = vec![
            evidence(
                vault.last_validation,
                &object,
                format!(
                    "phase {} (last validated {})",
                    vault.raw_phase,
                    vault
                        .last_validation
                        .map_or("never".to_string(), |t| t.to_string())
                ),
            ),
            probe_evidence(probe, &object),
        ];
        ev.extend(d.events(&object));
        let (cause, step) = cause_and_step(vault, probe, reason);
        found.push(Finding {
            rule: "vault-probe-failing",
            severity: Severity::Critical,
            summary: format!(
                "vault {} is {} in the cluster, but its bucket fails backupscope's probe ({}{})",
                vault.name,
                if vault.raw_phase.is_empty() {
                    "Unknown"
                } else {
                    &vault.raw_phase
                },
                reason.as_str(),
                if probe.code.is_empty() {
                    String::new()
                } else {
                    format!(", {}", probe.code)
                }
            ),
            evidence: ev,
            affected: vec![],
            cause,
            fix: vec![
                step,
                FixStep {
                    text: "Compare with the controller's view of the vault, then probe again."
                        .into(),
                    commands: vec![commands::describe_vault(vault), probe_command(vault)],
                },
            ],
            object,
        });
    }
    d.extend(found);
}

fn cause_and_step(vault: &Vault, probe: &ProbeResult, reason: ProbeReason) -> (String, FixStep) {
    let bucket = if vault.bucket.is_empty() {
        "<bucket>"
    } else {
        &vault.bucket
    };
    // The probe uses the endpoint and credentials handed to backupscope, which may differ
    // from the cluster's: every cause says so where it matters.
    let (cause, text) = match reason {
        ProbeReason::AccessDenied => (
            format!(
                "The object store refuses the credentials backupscope was given for bucket \
                 {bucket}{}: the key was rotated or its policy changed since the controller last \
                 validated the vault, or backupscope was given other credentials than the \
                 cluster's.",
                code_suffix(probe)
            ),
            "Check the key backupscope probes with (--vault-credentials or the environment) \
             against the cluster's; if they are the same, the next backups will fail: fix the \
             key or its policy.",
        ),
        ProbeReason::NoSuchBucket => (
            format!(
                "Bucket {bucket} does not exist where backupscope looked: it was deleted since \
                 the last validation, or backupscope looks at another endpoint or directory than \
                 the cluster."
            ),
            "Check that the bucket exists in the vault's region and that backupscope's \
             endpoint (--vault-endpoint, --vault-root, spec.config) is the cluster's.",
        ),
        ProbeReason::InvalidLayout => (
            format!(
                "Bucket {bucket} holds top-level folders under prefix {:?} that Velero does not \
                 allow ({}): at its next validation Velero marks the vault Unavailable and \
                 backups to it fail.",
                vault.prefix,
                probe.invalid_folders.join(", ")
            ),
            "Move those folders out of the prefix, or give the vault a prefix of its own.",
        ),
        ProbeReason::Network | ProbeReason::Timeout | ProbeReason::Tls => (
            format!(
                "backupscope cannot reach the object store of bucket {bucket} ({}). From where \
                 backupscope runs the endpoint is unreachable; if backupscope runs in the \
                 cluster, the backup server will fail the same way.",
                reason.as_str()
            ),
            "Check the endpoint, DNS, proxy, certificates and network policies between the \
             cluster and the object store.",
        ),
        ProbeReason::Other => (
            format!(
                "backupscope could not list bucket {bucket}: {}",
                if probe.message.is_empty() {
                    "no detail"
                } else {
                    &probe.message
                }
            ),
            "Read the probe's message and fix what it names (provider, region, credentials \
             file).",
        ),
    };
    (
        cause,
        FixStep {
            text: text.into(),
            commands: vec![],
        },
    )
}

fn code_suffix(p: &ProbeResult) -> String {
    if p.code.is_empty() {
        String::new()
    } else {
        format!(" ({})", p.code)
    }
}
