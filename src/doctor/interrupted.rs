//! Tasks the backup server dropped: backups and restores marked Failed at a server start, and
//! tasks stuck past their bound, correlated with the restart (and its cause: OOMKilled) of the
//! server component during them. One finding per restart, with the tasks and the pod's state as
//! evidence; the component's own restart finding is then not repeated.

use super::commands::{self, MemoryChange};
use super::tasks::{restore_evidence, restore_ref, task_evidence, task_ref};
use super::{Diagnosis, evidence, span};
use crate::center::{BackupCenter, ComponentView, RestoreView, Severity, TaskView};
use crate::model::{
    ContainerStatus, Engine, Pod, ReasonClass, TaskPhase, Termination, Timestamp, WorkloadKind,
};
use crate::report::doctor::{Evidence, Finding, FixStep, ObjectRef};
use std::collections::HashMap;

/// Components whose restart drops the tasks in flight.
const SERVERS: &[&str] = &["csdr-velero", "csdr-controller", "velero"];

/// How long after a restart the server marks its tasks Failed at startup.
const MARK_WINDOW_SECONDS: f64 = 30.0 * 60.0;

/// A container of a server component that restarted, with how it last ended.
pub(crate) struct Restart<'a> {
    pub component: ComponentView<'a>,
    pub pod: &'a Pod,
    pub container: &'a ContainerStatus,
    pub termination: &'a Termination,
}

impl Restart<'_> {
    pub fn finished(&self) -> Option<Timestamp> {
        self.termination.finished
    }

    pub fn component_ref(&self) -> ObjectRef {
        component_ref(&self.component)
    }

    pub fn oom(&self) -> bool {
        self.termination.reason == "OOMKilled"
    }

    pub fn memory(&self) -> MemoryChange {
        commands::raise_memory(&self.component, &self.container.name)
    }

    /// The pod state and its events, as evidence.
    pub fn evidence(&self, d: &Diagnosis) -> Vec<Evidence> {
        let pod = ObjectRef::new(&self.pod.namespace, "Pod", &self.pod.name);
        let limit = self
            .memory()
            .current
            .map_or("none".into(), crate::model::quantity::format_bytes);
        let mut ev = vec![evidence(
            self.termination.finished,
            &pod,
            format!(
                "container {} restarted {} time(s); last terminated {} (exit code {}) at {}; memory limit {limit}",
                self.container.name,
                self.container.restarts,
                self.termination.reason,
                self.termination.exit_code,
                self.termination
                    .finished
                    .map_or("<unknown time>".into(), |t| t.to_string()),
            ),
        )];
        ev.extend(d.events(&pod));
        ev
    }
}

pub(crate) fn component_ref(c: &ComponentView) -> ObjectRef {
    let kind = match c.spec.kind {
        WorkloadKind::Deployment => "Deployment",
        WorkloadKind::DaemonSet => "DaemonSet",
    };
    ObjectRef::new(
        &c.namespace,
        kind,
        c.workload().map_or(c.spec.name, |w| &w.name),
    )
}

/// Every restarted container of the server components of `engine`.
pub(crate) fn restarts<'a>(c: &BackupCenter<'a>, engine: Engine) -> Vec<Restart<'a>> {
    let mut out = Vec::new();
    for component in c
        .components()
        .into_iter()
        .filter(|v| v.spec.engine == engine && SERVERS.contains(&v.spec.name))
    {
        for pod in component.pods.iter().copied() {
            for container in &pod.containers {
                if let (true, Some(termination)) =
                    (container.restarts > 0, container.last_termination.as_ref())
                {
                    out.push(Restart {
                        component: component.clone(),
                        pod,
                        container,
                        termination,
                    });
                }
            }
        }
    }
    out
}

/// The restart a task marked Failed at `marked` came from: the newest that ended before it,
/// within the startup window.
fn restart_before(restarts: &[Restart], marked: Option<Timestamp>) -> Option<usize> {
    let marked = marked?;
    restarts
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let gap = (marked.as_millisecond() - r.finished()?.as_millisecond()) as f64 / 1000.0;
            (-60.0..=MARK_WINDOW_SECONDS)
                .contains(&gap)
                .then_some((i, gap))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The latest restart after `started`: it interrupted a task still running.
fn restart_during(restarts: &[Restart], started: Option<Timestamp>) -> Option<usize> {
    let started = started?;
    restarts
        .iter()
        .enumerate()
        .filter(|(_, r)| r.finished().is_some_and(|f| f >= started))
        .max_by_key(|(_, r)| r.finished())
        .map(|(i, _)| i)
}

/// A task or restore dropped by the server.
#[derive(Clone, Copy)]
enum Dropped<'a> {
    Backup(TaskView<'a>),
    Restore(RestoreView<'a>),
}

impl Dropped<'_> {
    fn object(&self) -> ObjectRef {
        match self {
            Dropped::Backup(v) => task_ref(v.task),
            Dropped::Restore(v) => restore_ref(v),
        }
    }

    fn engine(&self) -> Engine {
        match self {
            Dropped::Backup(v) => v.task.engine,
            Dropped::Restore(v) => v.restore.engine,
        }
    }

    fn evidence(&self, d: &Diagnosis) -> Vec<Evidence> {
        match self {
            Dropped::Backup(v) => task_evidence(d, v),
            Dropped::Restore(v) => restore_evidence(d, v),
        }
    }

    fn label(&self) -> String {
        match self {
            Dropped::Backup(v) => format!("backup {}", v.task.name),
            Dropped::Restore(v) => format!("restore {}", v.restore.name),
        }
    }

    /// The phase as the report names it: an undocumented one with the object's own string.
    fn shown_phase(&self) -> String {
        match self {
            Dropped::Backup(v) => v.task.shown_phase(),
            Dropped::Restore(v) => v.restore.shown_phase(),
        }
    }

    /// How to find what an unfinished task waits for: its details and what the server logs
    /// about it (`velero backup logs` has nothing until the task finishes).
    fn diagnose(&self, servers: &HashMap<String, String>) -> Vec<String> {
        let (namespace, name, what) = match self {
            Dropped::Backup(v) => (&*v.task.namespace, &*v.task.name, "backup"),
            Dropped::Restore(v) => (&*v.restore.namespace, &*v.restore.name, "restore"),
        };
        vec![
            format!(
                "{} {what} describe {} --details",
                commands::velero(namespace),
                commands::word(name)
            ),
            commands::server_log_grep(servers, namespace, name),
        ]
    }

    /// How to run it again.
    fn rerun(&self) -> Vec<String> {
        match self {
            Dropped::Backup(v) => {
                let t = v.task;
                let mut out = match (t.engine, t.schedule.is_empty()) {
                    (Engine::Velero, false) => vec![format!(
                        "{} backup create --from-schedule {}",
                        commands::velero(&t.namespace),
                        commands::word(&t.schedule)
                    )],
                    _ => vec![],
                };
                out.extend(commands::describe_backup(t));
                out
            }
            Dropped::Restore(v) => {
                let r = v.restore;
                let mut out = match r.engine {
                    Engine::Velero => vec![format!(
                        "{} restore create --from-backup {}",
                        commands::velero(&r.namespace),
                        commands::word(&r.backup)
                    )],
                    Engine::Ack => vec![],
                };
                out.extend(commands::describe_restore(r));
                out
            }
        }
    }
}

/// A task marked Failed at a server start, with when.
type Marked<'a> = (Option<Timestamp>, Dropped<'a>);

/// A task past its bound: how long it runs, its phase, whether its twin was marked Failed.
type Unfinished<'a> = (Dropped<'a>, f64, TaskPhase, bool);

/// The fix for a restart: the memory change when it was OOMKilled (and ACK's alternative), or
/// the previous logs when it crashed.
fn restart_fix(r: &Restart) -> Vec<FixStep> {
    if r.oom() {
        let change = r.memory();
        let mut steps = vec![FixStep {
            text: change.text(r.component.spec.name),
            commands: vec![change.command],
        }];
        if r.component.spec.engine == Engine::Ack {
            steps.push(FixStep {
                text: "Or cut velero's memory use: add --disable-informer-cache=true to the args \
                       of the migrate-controller container (ACK FAQ #14)."
                    .into(),
                commands: vec!["kubectl -n kube-system edit deployment migrate-controller".into()],
            });
        }
        steps
    } else {
        vec![FixStep {
            text: format!(
                "Find why {} ended {} (exit code {}).",
                r.component.spec.name, r.termination.reason, r.termination.exit_code
            ),
            commands: vec![commands::previous_logs(
                &r.pod.namespace,
                &r.pod.name,
                &r.container.name,
            )],
        }]
    }
}

fn restart_words(r: &Restart) -> String {
    format!(
        "{} was {} at {}",
        r.component.spec.name,
        if r.oom() {
            "OOMKilled".to_string()
        } else {
            format!("restarted ({})", r.termination.reason)
        },
        r.finished()
            .map_or("<unknown time>".into(), |t| t.to_string())
    )
}

/// Groups `items` by the restart index each maps to; `None` keys stay one per item.
fn group<T>(items: Vec<(Option<usize>, T)>) -> Vec<(Option<usize>, Vec<T>)> {
    let mut groups: Vec<(Option<usize>, Vec<T>)> = Vec::new();
    for (key, item) in items {
        match groups.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
            Some((_, g)) => g.push(item),
            None => groups.push((key, vec![item])),
        }
    }
    groups
}

pub fn server_restarts(d: &mut Diagnosis) {
    let c = d.center;
    let mut dropped: Vec<(Option<Timestamp>, Dropped)> = Vec::new();
    for task in d.flagged.iter().copied().filter(|t| t.phase.is_failure()) {
        let view = c.view(task);
        if c.reason(&view) == ReasonClass::ServerRestarted {
            dropped.push((task.completed, Dropped::Backup(view)));
        }
    }
    for view in c.restores().filter(|v| v.restore.phase.is_failure()) {
        if c.restore_reason(&view) == ReasonClass::ServerRestarted {
            dropped.push((view.restore.completed, Dropped::Restore(view)));
        }
    }
    dropped.retain(|(_, t)| !d.is_claimed(&t.object()));
    if dropped.is_empty() {
        return;
    }
    for engine in [Engine::Ack, Engine::Velero] {
        let restarts = restarts(c, engine);
        let mine: Vec<(Option<usize>, Marked)> = dropped
            .iter()
            .filter(|(_, t)| t.engine() == engine)
            .map(|(at, t)| (restart_before(&restarts, *at), (*at, *t)))
            .collect();
        for (key, mut tasks) in group(mine) {
            // Backups first, then by name: the first is the finding's object.
            tasks.sort_by_key(|(_, t)| (matches!(t, Dropped::Restore(_)), t.object().name));
            let restart = key.map(|i| &restarts[i]);
            let finding = server_finding(d, restart, &tasks);
            if let Some(r) = restart {
                d.claim(&r.component_ref());
            }
            d.push(finding);
        }
    }
}

fn server_finding(d: &Diagnosis, restart: Option<&Restart>, tasks: &[Marked]) -> Finding {
    let names: Vec<String> = tasks.iter().map(|(_, t)| t.label()).collect();
    let mut ev: Vec<Evidence> = tasks.iter().flat_map(|(_, t)| t.evidence(d)).collect();
    let mut fix = Vec::new();
    let cause = match restart {
        Some(r) => {
            ev.extend(r.evidence(d));
            fix.extend(restart_fix(r));
            format!(
                "{}, while the task(s) ran; at its start the server marks every task still \
                 InProgress Failed.",
                restart_words(r)
            )
        }
        None => "The backup server restarted while the task(s) ran and marked them Failed at its \
                 start; the pod no longer shows why it restarted (it was replaced)."
            .into(),
    };
    fix.push(FixStep {
        text: "Run the task(s) again once the server is stable.".into(),
        commands: tasks.iter().flat_map(|(_, t)| t.rerun()).collect(),
    });
    Finding {
        rule: "server-restarted",
        severity: Severity::Critical,
        object: tasks[0].1.object(),
        summary: format!(
            "{} failed because the server restarted during {}{}",
            names.join(" and "),
            if tasks.len() > 1 { "them" } else { "it" },
            restart
                .map(|r| format!(" ({})", restart_words(r)))
                .unwrap_or_default()
        ),
        evidence: ev,
        affected: tasks.iter().skip(1).map(|(_, t)| t.object()).collect(),
        cause,
        fix,
    }
}

pub fn stuck(d: &mut Diagnosis) {
    let c = d.center;
    let mut candidates: Vec<(Dropped, f64, TaskPhase, Option<Timestamp>, bool)> = Vec::new();
    // Velero backups queued behind a running one, not (yet) past their own bound: they join
    // the finding of a stuck running backup, and are no finding of their own.
    let mut queued_young: Vec<Unfinished> = Vec::new();
    for task in d.flagged.iter().copied().filter(|t| t.phase.is_active()) {
        let Some(running) = c.running_seconds(task) else {
            continue;
        };
        if running <= c.stuck_bound_seconds(task.engine, task.phase) {
            if task.engine == Engine::Velero && queued(task.phase) {
                queued_young.push((Dropped::Backup(c.view(task)), running, task.phase, false));
            }
            continue;
        }
        let view = c.view(task);
        let twin_dropped = view
            .twin
            .is_some_and(|w| ReasonClass::classify(&w.message) == ReasonClass::ServerRestarted);
        candidates.push((
            Dropped::Backup(view),
            running,
            task.phase,
            task.started.or(task.created),
            twin_dropped,
        ));
    }
    for view in c.restores().filter(|v| v.restore.phase.is_active()) {
        let r = view.restore;
        let Some(since) = r.started.or(r.created) else {
            continue;
        };
        let running = c.seconds_since(since);
        if running <= c.stuck_bound_seconds(r.engine, r.phase) {
            continue;
        }
        candidates.push((Dropped::Restore(view), running, r.phase, Some(since), false));
    }
    candidates.retain(|(t, ..)| !d.is_claimed(&t.object()));
    queued_young.retain(|(t, ..)| !d.is_claimed(&t.object()));
    for engine in [Engine::Ack, Engine::Velero] {
        let restarts = restarts(c, engine);
        let mine: Vec<(Option<usize>, Unfinished)> = candidates
            .iter()
            .filter(|(t, ..)| t.engine() == engine)
            .map(|(t, running, phase, since, twin)| {
                (
                    restart_during(&restarts, *since),
                    (*t, *running, *phase, *twin),
                )
            })
            .collect();
        let mut groups = group(mine);
        if engine == Engine::Velero {
            groups = behind_the_running_one(groups, std::mem::take(&mut queued_young));
        }
        for (key, tasks) in groups {
            let restart = key.map(|i| &restarts[i]);
            let finding = stuck_finding(d, restart, &tasks);
            if let Some(r) = restart {
                d.claim(&r.component_ref());
            }
            d.push(finding);
        }
    }
}

fn queued(phase: TaskPhase) -> bool {
    matches!(
        phase,
        TaskPhase::New | TaskPhase::Queued | TaskPhase::ReadyToStart
    )
}

/// Velero runs one backup at a time: backups stuck New behind a stuck running backup of their
/// namespace are that backup's consequence, so they join its finding; so do the `young`
/// queued backups, not past their own bound yet, which are otherwise no finding.
fn behind_the_running_one<'a>(
    groups: Vec<(Option<usize>, Vec<Unfinished<'a>>)>,
    young: Vec<Unfinished<'a>>,
) -> Vec<(Option<usize>, Vec<Unfinished<'a>>)> {
    let is_backup = |t: &Dropped| matches!(t, Dropped::Backup(_));
    let (waiting, mut rest): (Vec<_>, Vec<_>) = groups.into_iter().partition(|(key, tasks)| {
        key.is_none() && tasks.len() == 1 && queued(tasks[0].2) && is_backup(&tasks[0].0)
    });
    for (key, tasks) in waiting {
        let ns = tasks[0].0.object().namespace;
        match rest
            .iter_mut()
            .find(|(_, g)| !queued(g[0].2) && is_backup(&g[0].0) && g[0].0.object().namespace == ns)
        {
            Some((_, g)) => g.extend(tasks),
            None => rest.push((key, tasks)),
        }
    }
    for task in young {
        let ns = task.0.object().namespace;
        if let Some((_, g)) = rest
            .iter_mut()
            .find(|(_, g)| !queued(g[0].2) && is_backup(&g[0].0) && g[0].0.object().namespace == ns)
        {
            g.push(task);
        }
    }
    rest
}

fn stuck_finding(d: &Diagnosis, restart: Option<&Restart>, tasks: &[Unfinished]) -> Finding {
    let (first, _, phase, _) = &tasks[0];
    let engine = first.engine();
    let shown = first.shown_phase();
    let mut ev: Vec<Evidence> = tasks.iter().flat_map(|(t, ..)| t.evidence(d)).collect();
    let twin_dropped = tasks.iter().any(|(.., twin)| *twin);
    let mut fix = Vec::new();
    // ACK FAQ #15: hbr-client cannot start without its token; the Warning event says so.
    let ns = first.object().namespace;
    let hbr_token = d
        .center
        .events()
        .filter(|e| e.namespace == ns && e.message.contains("HBR_TOKEN"))
        .max_by_key(|e| e.last);
    if let (Engine::Ack, Some(e)) = (engine, hbr_token) {
        let r = ObjectRef::new(&e.namespace, &e.involved_kind, &e.involved_name);
        ev.push(evidence(
            e.last.or(e.first),
            &r,
            format!("{} event {}: {}", e.event_type, e.reason, e.message),
        ));
        if restart.is_none() {
            fix.push(FixStep {
                text: "Activate and authorise Cloud Backup, then let the token be recreated: \
                       label the hbr-client pod's node csdr.alibabacloud.com/agent-enable=false \
                       (never copy the token from another cluster)."
                    .into(),
                commands: vec![format!(
                    "kubectl label node {} csdr.alibabacloud.com/agent-enable=false --overwrite",
                    d.center
                        .inventory
                        .pods
                        .get(&(e.namespace.as_str().into(), e.involved_name.as_str().into()))
                        .filter(|p| !p.node.is_empty())
                        .map_or("<node of the hbr-client pod>".to_string(), |p| {
                            commands::word(&p.node)
                        })
                )],
            });
        }
    }
    let cause = match (restart, engine) {
        (Some(r), Engine::Ack) => {
            ev.extend(r.evidence(d));
            fix.extend(restart_fix(r));
            format!(
                "{} after the task started; the restarted velero dropped the task{} and csdr \
                 never updated it, so it stays {shown} (ACK FAQ #14).",
                restart_words(r),
                if twin_dropped {
                    " (its velero twin was marked Failed at the server start)"
                } else {
                    ""
                },
            )
        }
        (Some(r), Engine::Velero) => {
            ev.extend(r.evidence(d));
            fix.extend(restart_fix(r));
            format!(
                "{} after the task started, and the task has not finished since.",
                restart_words(r)
            )
        }
        (None, Engine::Ack) if twin_dropped => "csdr-velero restarted during the task (its velero \
            twin was marked Failed at the server start) and csdr never updated the task; the pod \
            no longer shows why."
            .into(),
        (None, Engine::Ack) if hbr_token.is_some() => "Cloud Backup is not activated or not \
            authorised, so hbr-client cannot start without its token (event \"couldn't find key \
            HBR_TOKEN\", ACK FAQ #15); the file-system volumes of the task wait for it."
            .into(),
        (None, Engine::Ack) => "csdr gives up on a velero subtask after 60 minutes, so a task \
            unfinished for much longer is no longer being worked on: a component restarted or \
            hangs (ACK FAQ #14-#16: component restarts, HBR not configured, volume snapshots \
            never ready)."
            .into(),
        (None, Engine::Velero) if *phase == TaskPhase::New => "Velero has not picked the task up: \
            it runs one backup at a time, so it waits behind a running one, or the server is \
            not running."
            .into(),
        (None, Engine::Velero) => format!(
            "The task has been {shown} for longer than Velero's default timeouts; an operation \
             (a volume snapshot, a data upload, a pod volume backup) hangs."
        ),
    };
    // Backups queued behind the first: its consequence, named apart.
    let waits = |p: TaskPhase| queued(p) && !queued(*phase);
    match engine {
        Engine::Ack => fix.push(FixStep {
            text: "The task will not resume: delete it (in the console's Backup Records, or with \
                   a DeleteRequest: csdr tasks cannot be removed with kubectl delete) and run it \
                   again."
                .into(),
            commands: tasks.iter().flat_map(|(t, ..)| t.rerun()).collect(),
        }),
        Engine::Velero => {
            // Diagnostics only: creating another backup would queue it behind the stuck one.
            let servers = commands::velero_servers(d.center);
            let mut commands: Vec<String> = Vec::new();
            for (t, ..) in tasks.iter().filter(|(_, _, p, _)| !waits(*p)) {
                for command in t.diagnose(&servers) {
                    if !commands.contains(&command) {
                        commands.push(command);
                    }
                }
            }
            fix.push(FixStep {
                text: "Find the operation it waits for.".into(),
                commands,
            });
        }
    }
    let (waiting, unfinished): (Vec<&Unfinished>, Vec<&Unfinished>) =
        tasks.iter().partition(|(_, _, p, _)| waits(*p));
    let waiting_names: Vec<String> = waiting.iter().map(|(t, ..)| t.object().name).collect();
    let cause = if waiting.is_empty() {
        cause
    } else {
        format!(
            "{cause} Backup(s) {} wait behind it: Velero runs one backup at a time.",
            waiting_names.join(", ")
        )
    };
    // Each task with its own phase: "backup a InProgress for 6h (bound 4h); backup b New waits
    // behind it".
    let unfinished: Vec<String> = unfinished
        .iter()
        .enumerate()
        .map(|(i, (t, running, p, _))| {
            let bound = if i == 0 {
                format!(
                    " (bound {})",
                    span(d.center.stuck_bound_seconds(engine, *p))
                )
            } else {
                String::new()
            };
            format!(
                "{} {} for {}{bound}",
                t.label(),
                t.shown_phase(),
                span(*running)
            )
        })
        .collect();
    let waiting_words = match waiting.len() {
        0 => String::new(),
        n => format!(
            "; {} wait{} behind it",
            waiting
                .iter()
                .map(|(t, ..)| format!("{} {}", t.label(), t.shown_phase()))
                .collect::<Vec<_>>()
                .join(", "),
            if n == 1 { "s" } else { "" }
        ),
    };
    Finding {
        rule: "task-stuck",
        severity: if restart.is_some() || twin_dropped {
            Severity::Critical
        } else {
            Severity::Warning
        },
        object: first.object(),
        summary: format!(
            "{}{}{waiting_words}",
            unfinished.join(" and "),
            restart
                .map(|r| format!(" after {}", restart_words(r)))
                .unwrap_or_default()
        ),
        evidence: ev,
        affected: tasks.iter().skip(1).map(|(t, ..)| t.object()).collect(),
        cause,
        fix,
    }
}
