//! The exact commands a fix consists of, for one object: kubectl on ACK (whose velero runs inside
//! the csdr-velero pod), the velero CLI on Velero. Names are quoted only when a shell needs it.

use crate::center::{BackupCenter, ComponentView};
use crate::model::{BackupTask, Engine, RestoreTask, Vault, quantity};
use std::collections::HashMap;

/// A name as a shell word: Kubernetes names never need quoting, anything else is single-quoted.
pub fn word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/' | ':'));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The namespaces the OpenShift API for Data Protection (OADP) installs Velero in.
const OADP_NAMESPACES: &[&str] = &["openshift-adp", "oadp-operator"];

/// The velero CLI for the Velero of `namespace`, the one place that decides it: OADP ships no
/// velero CLI, so there it is the server's own binary run in its pod (OADP's documented
/// form; the pod knows its namespace); elsewhere `velero`, with `-n NS` outside `velero`.
pub fn velero(namespace: &str) -> String {
    if OADP_NAMESPACES.contains(&namespace) {
        format!(
            "oc -n {} exec deployment/velero -c velero -- ./velero",
            word(namespace)
        )
    } else if namespace == "velero" {
        "velero".into()
    } else {
        format!("velero -n {}", word(namespace))
    }
}

/// ACK's own velero binary, run in the csdr-velero pod (FAQ #24: `./velero describe backup`).
fn ack_velero(namespace: &str) -> String {
    format!(
        "kubectl -n {} exec deploy/csdr-velero -c velero -- ./velero",
        word(namespace)
    )
}

/// Read a task's errors: `what` is `backup` or `restore`. Velero uploads a task's log when the
/// task finishes, so `logs` is offered only for a `finished` one.
fn describe_task(
    engine: Engine,
    namespace: &str,
    name: &str,
    what: &str,
    finished: bool,
) -> Vec<String> {
    let name = word(name);
    match engine {
        Engine::Ack => vec![
            format!(
                "kubectl -n {} describe application{what} {name}",
                word(namespace)
            ),
            format!("{} describe {what} {name} --details", ack_velero(namespace)),
        ],
        Engine::Velero => {
            let mut out = vec![format!(
                "{} {what} describe {name} --details",
                velero(namespace)
            )];
            if finished {
                out.push(format!("{} {what} logs {name}", velero(namespace)));
            }
            out
        }
    }
}

/// The Velero server Deployment of each namespace that exports one (Helm before chart 11
/// names it `<release>-velero`), found once for all the commands of a finding.
pub fn velero_servers(c: &BackupCenter) -> HashMap<String, String> {
    c.components()
        .into_iter()
        .filter(|v| v.spec.name == "velero")
        .filter_map(|v| Some((v.namespace.clone(), v.workload()?.name.clone())))
        .collect()
}

/// What the Velero server of `namespace` logs about one task: the log of its Deployment
/// (from [`velero_servers`]; `velero` where none was found) filtered by the task's name.
pub fn server_log_grep(servers: &HashMap<String, String>, namespace: &str, task: &str) -> String {
    let deployment = servers.get(namespace).map_or("velero", String::as_str);
    format!(
        "kubectl -n {} logs deploy/{} | grep {}",
        word(namespace),
        word(deployment),
        word(task)
    )
}

pub fn describe_backup(task: &BackupTask) -> Vec<String> {
    describe_task(
        task.engine,
        &task.namespace,
        &task.name,
        "backup",
        task.phase.is_terminal(),
    )
}

pub fn backup_logs(task: &BackupTask) -> String {
    match task.engine {
        Engine::Ack => format!(
            "{} backup logs {}",
            ack_velero(&task.namespace),
            word(&task.name)
        ),
        Engine::Velero => format!(
            "{} backup logs {}",
            velero(&task.namespace),
            word(&task.name)
        ),
    }
}

pub fn describe_restore(restore: &RestoreTask) -> Vec<String> {
    describe_task(
        restore.engine,
        &restore.namespace,
        &restore.name,
        "restore",
        restore.phase.is_terminal(),
    )
}

pub fn describe_vault(vault: &Vault) -> String {
    let (ns, name) = (word(&vault.namespace), word(&vault.name));
    match vault.engine {
        Engine::Ack => format!("kubectl -n {ns} describe backuplocation {name}"),
        Engine::Velero => format!(
            "{} backup-location get {name} -o yaml",
            velero(&vault.namespace)
        ),
    }
}

/// ACK FAQ #10: switch a vault to the public OSS endpoint, on the BackupLocation and on its
/// velero BackupStorageLocation alike.
pub fn ack_vault_to_public(vault: &Vault) -> Vec<String> {
    let patch = format!(
        r#"'[{{"op":"replace","path":"/spec/config","value":{{"network":"public","region":"{}"}}}}]'"#,
        vault.region
    );
    let (ns, name) = (word(&vault.namespace), word(&vault.name));
    vec![
        format!("kubectl -n {ns} patch backuplocation {name} --type json -p {patch}"),
        format!(
            "kubectl -n {ns} patch backupstoragelocation.velero.io {name} --type json -p {patch}"
        ),
    ]
}

pub fn describe_schedule(engine: Engine, namespace: &str, name: &str) -> String {
    match engine {
        Engine::Ack => format!(
            "kubectl -n {} describe backupschedule {}",
            word(namespace),
            word(name)
        ),
        Engine::Velero => format!("{} schedule describe {}", velero(namespace), word(name)),
    }
}

pub fn unpause_schedule(engine: Engine, namespace: &str, name: &str) -> String {
    match engine {
        Engine::Ack => format!(
            r#"kubectl -n {} patch backupschedule {} --type merge -p '{{"spec":{{"paused":false}}}}'"#,
            word(namespace),
            word(name)
        ),
        Engine::Velero => format!("{} schedule unpause {}", velero(namespace), word(name)),
    }
}

pub fn describe_pod(namespace: &str, pod: &str) -> String {
    format!("kubectl -n {} describe pod {}", word(namespace), word(pod))
}

pub fn previous_logs(namespace: &str, pod: &str, container: &str) -> String {
    format!(
        "kubectl -n {} logs {} -c {} --previous",
        word(namespace),
        word(pod),
        word(container)
    )
}

/// The memory-limit change for one container: its current limit, a suggested one (double,
/// at least 1Gi), and the patch that sets it.
pub struct MemoryChange {
    pub container: String,
    pub current: Option<f64>,
    pub suggested: f64,
    pub command: String,
}

const GI: f64 = 1024.0 * 1024.0 * 1024.0;

pub fn raise_memory(component: &ComponentView, container: &str) -> MemoryChange {
    // The workload that runs the container (the node agent's Windows DaemonSet has its own).
    let workload = component
        .workloads
        .iter()
        .find(|w| w.containers.iter().any(|c| c.name == container))
        .copied()
        .or(component.workload());
    let current = workload
        .and_then(|w| w.containers.iter().find(|c| c.name == container))
        .and_then(|c| c.limits.memory);
    let suggested = current.map_or(GI, |m| (m * 2.0).max(GI));
    let kind = match component.spec.kind {
        crate::model::WorkloadKind::Deployment => "deployment",
        crate::model::WorkloadKind::DaemonSet => "daemonset",
    };
    let name = workload.map_or(component.spec.name, |w| w.name.as_str());
    let command = format!(
        r#"kubectl -n {} patch {kind} {} --patch '{{"spec":{{"template":{{"spec":{{"containers":[{{"name":"{}","resources":{{"limits":{{"memory":"{}"}}}}}}]}}}}}}}}'"#,
        word(&component.namespace),
        word(name),
        container,
        quantity::format_bytes(suggested)
    );
    MemoryChange {
        container: container.to_string(),
        current,
        suggested,
        command,
    }
}

impl MemoryChange {
    /// "raise the memory limit of container velero from 2Gi to 4Gi".
    pub fn text(&self, component: &str) -> String {
        match self.current {
            Some(now) => format!(
                "Raise the memory limit of {component} (container {}) from {} to {}.",
                self.container,
                quantity::format_bytes(now),
                quantity::format_bytes(self.suggested)
            ),
            None => format!(
                "{component} (container {}) has no memory limit, so the node ran out of memory; give it \
                 a limit of {} and make sure a node has that much free.",
                self.container,
                quantity::format_bytes(self.suggested)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn velero_cli_per_install() {
        assert_eq!(velero("velero"), "velero");
        assert_eq!(velero("backup"), "velero -n backup");
        assert_eq!(
            velero("openshift-adp"),
            "oc -n openshift-adp exec deployment/velero -c velero -- ./velero"
        );
        let oadp_task = BackupTask {
            engine: Engine::Velero,
            namespace: "openshift-adp".into(),
            name: "nightly-1".into(),
            created: None,
            vault: "".into(),
            schedule: "".into(),
            backup_type: crate::model::BackupType::AppBackup,
            volumes: Default::default(),
            phase: crate::model::TaskPhase::Failed,
            raw_phase: "Failed".into(),
            started: None,
            completed: None,
            expiration: None,
            message: "".into(),
            errors: None,
            warnings: None,
            included_namespaces: Default::default(),
            ttl: "".into(),
        };
        assert_eq!(
            describe_backup(&oadp_task),
            [
                "oc -n openshift-adp exec deployment/velero -c velero -- ./velero backup describe nightly-1 --details",
                "oc -n openshift-adp exec deployment/velero -c velero -- ./velero backup logs nightly-1",
            ]
        );
    }

    #[test]
    fn shell_words() {
        assert_eq!(word("prod-hz-vault"), "prod-hz-vault");
        assert_eq!(word("a b"), "'a b'");
        assert_eq!(word("it's"), r"'it'\''s'");
        assert_eq!(word(""), "''");
    }
}
