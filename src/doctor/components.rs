//! Component rules (ACK monitoring doc, "Troubleshoot the issue that a working component does
//! not exist or is in the abnormal state"): NotFound, UnHealth, Health with restarts.

use super::commands;
use super::interrupted::component_ref;
use super::{Diagnosis, evidence};
use crate::center::{ComponentView, Severity};
use crate::model::{
    ComponentStatus, ContainerStatus, Engine, Pod, PodPhase, Workload, WorkloadKind,
};
use crate::report::doctor::{Evidence, Finding, FixStep, ObjectRef};

/// Pods younger than this that are not ready yet are starting, not broken.
const STARTING_SECONDS: f64 = 5.0 * 60.0;

/// Ends that say nothing about the component: the node rebooted or the sandbox was replaced
/// (`Unknown`, often exit 255), or the process exited cleanly.
pub(crate) fn benign_end(reason: &str) -> bool {
    matches!(reason, "Unknown" | "Completed")
}

fn pod_ref(p: &Pod) -> ObjectRef {
    ObjectRef::new(&p.namespace, "Pod", &p.name)
}

fn container_fact(c: &ContainerStatus) -> String {
    let mut fact = format!(
        "container {} ready {}, restarts {}",
        c.name, c.ready, c.restarts
    );
    if !c.waiting_reason.is_empty() {
        fact.push_str(&format!(", waiting {}", c.waiting_reason));
    }
    if let Some(t) = &c.last_termination {
        fact.push_str(&format!(
            ", last terminated {} (exit code {}){}",
            t.reason,
            t.exit_code,
            t.finished.map(|f| format!(" at {f}")).unwrap_or_default()
        ));
    }
    fact
}

/// Each pod's state and its events.
pub(crate) fn pod_evidence(d: &Diagnosis, view: &ComponentView) -> Vec<Evidence> {
    let mut ev = Vec::new();
    for p in &view.pods {
        let r = pod_ref(p);
        for c in &p.containers {
            let at = c
                .last_termination
                .as_ref()
                .and_then(|t| t.finished)
                .or(p.created);
            ev.push(evidence(
                at,
                &r,
                format!("phase {}; {}", p.phase, container_fact(c)),
            ));
        }
        if p.containers.is_empty() {
            ev.push(evidence(p.created, &r, format!("phase {}", p.phase)));
        }
        ev.extend(d.events(&r));
    }
    ev
}

fn ns_of(view: &ComponentView) -> String {
    commands::word(&view.namespace)
}

pub fn check(d: &mut Diagnosis) {
    let c = d.center;
    let mut found = Vec::new();
    for view in c.components() {
        let object = component_ref(&view);
        // A finding about the component itself (migrate-controller crash-looping) says it all.
        if d.findings.iter().any(|f| f.object == object) {
            continue;
        }
        found.extend(leftover_workloads(&view, &object));
        let name = view.spec.name;
        match view.status {
            ComponentStatus::NotFound => found.push(not_found(&view, object)),
            ComponentStatus::UnHealth => {
                let starting = view
                    .pods
                    .iter()
                    .filter(|p| {
                        PodPhase::parse(&p.phase) != PodPhase::Running
                            || p.containers.iter().any(|c| !c.ready)
                    })
                    .all(|p| {
                        p.created
                            .is_some_and(|t| c.seconds_since(t) < STARTING_SECONDS)
                    });
                if starting && !view.pods.is_empty() {
                    continue;
                }
                let mut ev = vec![evidence(
                    view.workload().and_then(|w| w.created),
                    &object,
                    format!(
                        "status UnHealth: {}/{} pods ready",
                        view.pods_ready(),
                        view.pods_desired()
                    ),
                )];
                ev.extend(d.events(&object));
                ev.extend(pod_evidence(d, &view));
                let mut fix = vec![FixStep {
                    text: "Find why the pods do not start (scheduling, resources, image, probes)."
                        .into(),
                    commands: view
                        .pods
                        .iter()
                        .map(|p| commands::describe_pod(&p.namespace, &p.name))
                        .chain(std::iter::once(format!(
                            "kubectl -n {} get events --field-selector type!=Normal",
                            ns_of(&view)
                        )))
                        .collect(),
                }];
                fix.extend(restart_steps(&view));
                found.push(Finding {
                    rule: "component-unhealthy",
                    severity: Severity::Critical,
                    summary: format!(
                        "{name} is UnHealth: {}/{} pods ready",
                        view.pods_ready(),
                        view.pods_desired()
                    ),
                    evidence: ev,
                    affected: vec![],
                    cause: "The component's pods cannot start or fail their probes; tasks fail \
                            or stay InProgress while it is down."
                        .into(),
                    fix,
                    object,
                });
            }
            // Restarts a task finding already blames (server-restarted, task-stuck) are not
            // repeated; a component that is down now still is.
            ComponentStatus::Health | ComponentStatus::Unknown if d.is_claimed(&object) => {}
            ComponentStatus::Health | ComponentStatus::Unknown => {
                let troubled: Vec<(&Pod, &ContainerStatus)> = troubled(&view);
                if troubled.is_empty() {
                    continue;
                }
                let oom = troubled.iter().any(|(_, c)| is_oom(c));
                let restarts: u64 = troubled.iter().map(|(_, c)| c.restarts).sum();
                found.push(Finding {
                    rule: "component-restarting",
                    severity: Severity::Warning,
                    summary: format!(
                        "{name} is Health but restarted {restarts} time(s){}",
                        if oom { ", last OOMKilled" } else { "" }
                    ),
                    evidence: pod_evidence(d, &view),
                    affected: vec![],
                    cause: if oom {
                        format!(
                            "{name} ran out of memory; its memory use spikes during backups and \
                             restores, and a task running at that moment fails or stays \
                             InProgress."
                        )
                    } else {
                        format!("{name} crashed and was restarted.")
                    },
                    fix: restart_steps(&view),
                    object,
                });
            }
        }
    }
    d.extend(found);
}

/// Workloads that belong together: the node agent runs one DaemonSet for Linux and, since
/// Velero 1.16, one for Windows nodes.
const COMPANIONS: &[&str] = &["node-agent", "node-agent-windows"];

/// A finding per workload beside the one meant to run the component.
fn leftover_workloads(view: &ComponentView, object: &ObjectRef) -> Vec<Finding> {
    let Some(lead) = view.workload() else {
        return Vec::new();
    };
    let ns = ns_of(view);
    let name = view.spec.name;
    view.workloads[1..]
        .iter()
        .filter(|w| {
            !(COMPANIONS.contains(&lead.name.as_str()) && COMPANIONS.contains(&w.name.as_str()))
        })
        .map(|w| {
            let kind = match w.kind {
                WorkloadKind::Deployment => "deployment",
                WorkloadKind::DaemonSet => "daemonset",
            };
            let cause = if w.name == "restic" {
                "Velero 1.10 replaced the restic DaemonSet with node-agent; the upgrade \
                 guide deletes restic, and this one was left behind."
                    .to_string()
            } else {
                format!(
                    "Two workloads run {name}: the Helm chart named the server Deployment \
                     <release>-velero before chart 11.0 and velero since, so an upgrade or a \
                     second install can leave both. Two servers reconcile the same backups \
                     and schedules."
                )
            };
            let state = |w: &Workload| format!("{} {}/{} ready", w.name, w.ready, w.desired);
            Finding {
                rule: "component-leftover-workload",
                severity: Severity::Warning,
                summary: format!(
                    "{name} runs as {} in namespace {}: {} is left beside {}",
                    view.workloads.len(),
                    view.namespace,
                    w.name,
                    lead.name
                ),
                evidence: vec![
                    evidence(lead.created, object, state(lead)),
                    evidence(
                        w.created,
                        &ObjectRef::new(&w.namespace, object.kind.as_str(), &w.name),
                        state(w),
                    ),
                ],
                affected: vec![],
                cause,
                fix: vec![FixStep {
                    text: format!(
                        "Check which one the installer manages (its labels name the Helm \
                         release), then delete {}.",
                        w.name
                    ),
                    commands: vec![
                        format!("kubectl -n {ns} get {kind} --show-labels"),
                        format!("kubectl -n {ns} delete {kind} {}", commands::word(&w.name)),
                    ],
                }],
                object: object.clone(),
            }
        })
        .collect()
}

fn is_oom(c: &ContainerStatus) -> bool {
    c.last_termination
        .as_ref()
        .is_some_and(|t| t.reason == "OOMKilled")
}

/// Containers that restarted for a reason that is the component's own.
fn troubled<'a>(view: &ComponentView<'a>) -> Vec<(&'a Pod, &'a ContainerStatus)> {
    view.pods
        .iter()
        .flat_map(|p| p.containers.iter().map(move |c| (*p, c)))
        .filter(|(_, c)| {
            c.restarts > 0
                && c.last_termination
                    .as_ref()
                    .is_some_and(|t| !benign_end(&t.reason))
        })
        .collect()
}

/// Memory changes for OOMKilled containers, previous logs for crashed ones.
fn restart_steps(view: &ComponentView) -> Vec<FixStep> {
    let mut steps = Vec::new();
    let mut oom_seen = Vec::new();
    for (pod, c) in troubled(view) {
        if is_oom(c) {
            if oom_seen.contains(&c.name) {
                continue;
            }
            oom_seen.push(c.name.clone());
            let change = commands::raise_memory(view, &c.name);
            steps.push(FixStep {
                text: change.text(view.spec.name),
                commands: vec![change.command],
            });
        } else {
            steps.push(FixStep {
                text: format!("Read why container {} of {} crashed.", c.name, pod.name),
                commands: vec![commands::previous_logs(&pod.namespace, &pod.name, &c.name)],
            });
        }
    }
    if !oom_seen.is_empty() && view.spec.engine == Engine::Ack {
        steps.push(FixStep {
            text: "Or cut velero's memory use: add --disable-informer-cache=true to the args of \
                   the migrate-controller container (ACK FAQ #14)."
                .into(),
            commands: vec!["kubectl -n kube-system edit deployment migrate-controller".into()],
        });
    }
    steps
}

fn not_found(view: &ComponentView, object: ObjectRef) -> Finding {
    let name = view.spec.name;
    let (cause, commands) = match (view.spec.engine, name) {
        (Engine::Ack, "migrate-controller") => (
            "The backup center's component migrate-controller is not installed (or was \
             removed)."
                .to_string(),
            vec!["kubectl -n kube-system get deployment,pod -l app=migrate-controller".to_string()],
        ),
        (Engine::Ack, _) => (
            format!(
                "migrate-controller deploys {name} after its precheck; it is missing when the \
                 precheck failed (FlexVolume, a registered cluster without permissions) or its \
                 Deployment was deleted."
            ),
            vec![
                "kubectl -n kube-system get pod -l app=migrate-controller".to_string(),
                "kubectl -n kube-system logs deploy/migrate-controller".to_string(),
            ],
        ),
        (Engine::Velero, _) => (
            format!(
                "The {name} Deployment is not in namespace {}.",
                view.namespace
            ),
            vec![format!("kubectl -n {} get deployment,pod", ns_of(view))],
        ),
    };
    Finding {
        rule: "component-not-found",
        severity: Severity::Critical,
        summary: format!("{name} is NotFound in namespace {}", view.namespace),
        evidence: vec![evidence(
            None,
            &object,
            "no Deployment or DaemonSet and no pods of the component".into(),
        )],
        affected: vec![],
        cause,
        fix: vec![FixStep {
            text: "Check the installation.".into(),
            commands,
        }],
        object,
    }
}
